import Hardware

/// A platform for device tests: a settable clock, and a record of everything devices asked for.
final class FakePlatform: Platform {
    var now: UInt64 = 0
    private(set) var interruptLines = [Bool](repeating: false, count: 16)
    /// Every change of an interrupt line, in order: (irq, level).
    private(set) var interruptChanges: [(Int, Bool)] = []
    private(set) var resetRequests: [ResetRequest] = []
    private(set) var sleepRequests: [SleepRequest] = []
    private(set) var a20Inputs: [A20Input: Bool] = [:]
    private(set) var events: [TraceEvent] = []
    private(set) var exitStatus: Int32?
    private(set) var interruptOutputChanges = 0

    func setInterruptLine(_ irq: Int, high: Bool) {
        interruptLines[irq] = high
        interruptChanges.append((irq, high))
    }
    func requestReset(_ request: ResetRequest) { resetRequests.append(request) }
    func requestSleep(_ request: SleepRequest) { sleepRequests.append(request) }
    func setA20(_ input: A20Input, enabled: Bool) { a20Inputs[input] = enabled }
    func record(_ event: TraceEvent) { events.append(event) }
    func requestExit(status: Int32) { exitStatus = status }
    func interruptOutputChanged() { interruptOutputChanges += 1 }

    /// Guest RAM for DMA, from address 0; beyond it nothing answers.
    var ram = [UInt8](repeating: 0, count: 64 << 10)
    func dmaRead(_ address: UInt64, count: Int) -> [UInt8]? {
        guard address + UInt64(count) <= UInt64(ram.count) else { return nil }
        return Array(ram[Int(address)..<Int(address) + count])
    }
    func dmaWrite(_ bytes: [UInt8], at address: UInt64) -> Bool {
        guard address + UInt64(bytes.count) <= UInt64(ram.count) else { return false }
        ram.replaceSubrange(Int(address)..<Int(address) + bytes.count, with: bytes)
        return true
    }

    /// Advances the clock and lets a timed device raise what became due.
    func advance(_ device: some TimedDevice, by nanoseconds: UInt64) {
        now += nanoseconds
        device.advance(to: now)
    }

    func events(named name: String) -> [TraceEvent] { events.filter { $0.name == name } }
}
