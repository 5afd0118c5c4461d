import Foundation
import Testing
import X86Asm

/// `--device` as kvm-unit-tests' QEMU command line uses it: `-device pc-testdev` and
/// `-device isa-debug-exit,iobase=0xf4,iosize=0x4`.
@Suite(.timeLimit(.minutes(2))) struct DeviceOptionTests {
    /// Writes 15h to the pc-testdev latch at E0h, reads it back and writes what it read to
    /// port F6h (inside the exit window F4h–F7h), then `cli; hlt`.
    static func latchEcho() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: TestGuest.origin)
        a.mov(.eax, 0x15)
        a.out(0xE0, .eax)
        a.mov(.al, 0)
        a.in(.al, 0xE0)
        a.out(0xF6, .al)
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// Each device line and the status: 43 = (15h << 1) | 1 when the latch answered and the
    /// window covers F6h; 255 when nothing answered at E0h (a floating FFh); 0 when F6h is
    /// outside the window and the guest halts.
    static let cases: [(devices: [String], status: Int32)] = [
        (["pc-testdev", "isa-debug-exit,iobase=0xf4,iosize=0x4"], 43),
        (["isa-debug-exit,iobase=0xf4,iosize=0x4", "pc-testdev"], 43),
        (["pc-testdev", "isa-debug-exit,iobase=246,iosize=1"], 43),
        (["isa-debug-exit,iobase=0xf4,iosize=0x4"], 255),
        (["pc-testdev", "isa-debug-exit,iobase=0xf4,iosize=2"], 0),
        (["pc-testdev", "isa-debug-exit"], 0),
    ]

    @Test(arguments: cases)
    func devicesAreAddedAsQEMUDoes(devices: [String], status: Int32) throws {
        let directory = try TemporaryDirectory()
        let payload = try directory.file("echo.bin", Self.latchEcho())
        let result = try Invocation.run(["run", "--payload", payload, "--serial", "none", "--exit-on-halt"]
                                        + devices.flatMap { ["--device", $0] })
        #expect(result.status == status, "\(result.standardError)")
        #expect(result.errorLines.last.map(String.init) == (status == 0 ? "resetvector: all CPUs halted"
                                                             : "resetvector: guest requested exit with status \(status)"))
    }
}
