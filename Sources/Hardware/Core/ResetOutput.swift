/// A device's reset output: the wire from the 8042's RCIN#, port 0x92's fast-reset bit or
/// the 0xCF9 register to the power & reset controller. A board quirk can leave it
/// unconnected; the request then goes to `onBlocked` (for the trace) and nowhere else.
public final class ResetOutput {
    /// The wire is not connected (a quirk breaks this reset path).
    public var isBroken = false
    /// Receives each request a broken wire swallowed.
    public var onBlocked: ((ResetRequest) -> Void)?

    public init() {}

    /// Asserts the output: the request reaches the controller unless the wire is broken.
    func assert(to platform: any Platform, _ request: ResetRequest) {
        if isBroken {
            onBlocked?(request)
        } else {
            platform.requestReset(request)
        }
    }
}
