/// The PC's coprocessor-error logic, as Intel recommends it for MS-DOS-compatible x87 error
/// reporting (SDM Vol. 1, Appendix D.2, "Recommended external hardware") and as AT chipsets
/// build it: the processor's FERR# output sets a latch that drives IRQ 13; a write of any
/// value to I/O port F0h clears the latch (IRQ 13 low) and, while FERR# is still asserted,
/// asserts IGNNE# so the error handler's own x87 instructions run; IGNNE# goes away with FERR#.
public final class CoprocessorErrorPort: Device {
    public let name = "fpu-error"
    /// The port whose write acknowledges the error.
    public static let port: UInt16 = 0xF0
    /// The ISA interrupt line FERR# is routed to (the slave 8259's IR5).
    public static let irq = 13
    public let portRanges: [ClosedRange<UInt16>] = [CoprocessorErrorPort.port...CoprocessorErrorPort.port]

    /// Drives the processors' IGNNE# inputs.
    public var ignoreNumericErrorChanged: ((Bool) -> Void)?

    private unowned let platform: any Platform
    private var errorSignal = false
    private var latched = false
    private var ignoreNumericError = false

    /// Creates the logic with FERR#, the latch and IGNNE# inactive. The platform owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    /// The processor's FERR# output changed.
    public func floatingPointErrorChanged(asserted: Bool) {
        guard asserted != errorSignal else { return }
        errorSignal = asserted
        platform.record(TraceEvent("ferr", [("asserted", .number(asserted ? 1 : 0))]))
        if asserted {
            setLatch(true)
        } else {
            setIgnoreNumericError(false)
        }
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        setLatch(false)
        if errorSignal { setIgnoreNumericError(true) }
    }

    /// A platform reset clears the latch and IGNNE#; INIT leaves them (it leaves FERR# too).
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        errorSignal = false
        setLatch(false)
        setIgnoreNumericError(false)
    }

    private func setLatch(_ on: Bool) {
        guard on != latched else { return }
        latched = on
        platform.setInterruptLine(CoprocessorErrorPort.irq, high: on)
    }

    private func setIgnoreNumericError(_ on: Bool) {
        guard on != ignoreNumericError else { return }
        ignoreNumericError = on
        ignoreNumericErrorChanged?(on)
    }
}
