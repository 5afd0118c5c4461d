import Firmware
import Machine
import Testing

/// A Multiboot kernel that cannot be booted is refused when the machine is built, with the
/// loader's one-line reason.
@Suite struct MultibootConfigurationTests {
    static func configuration(kernel: [UInt8], memorySize: Int = 32 << 20) throws -> MachineConfiguration {
        var configuration = try TestBoard.configuration(payload: [])
        configuration.memorySize = memorySize
        configuration.multiboot = MultibootBoot(kernel: kernel, commandLine: "k")
        return configuration
    }

    static let kernel = BootImage.multibootHeader(addressFields: .init(header: 0x10_0000, load: 0x10_0000, loadEnd: 0, bssEnd: 0, entry: 0x10_0020))
        + [0xF4, 0xEB, 0xFD]

    @Test func unbootableKernelsAreMachineErrors() throws {
        let notMultiboot = try Self.configuration(kernel: [UInt8](repeating: 0x90, count: 100))
        #expect(throws: MachineError.multiboot(.headerNotFound)) { try notMultiboot.validate() }
        #expect(throws: MachineError.multiboot(.headerNotFound)) { _ = try Machine(notMultiboot) }
        #expect(MachineError.multiboot(.headerNotFound).description == MultibootError.headerNotFound.description)

        var tooBig = try Self.configuration(kernel: Self.kernel, memorySize: 2 << 20)
        tooBig.multiboot?.modules = [MultibootModule(bytes: [UInt8](repeating: 1, count: 1 << 20), string: "big")]
        #expect(throws: MachineError.multiboot(.modulesDoNotFit(end: 0x20_1000, ramEnd: 0x1F_0000))) { _ = try Machine(tooBig) }
    }

    @Test func aPayloadAndAKernelConflict() throws {
        var configuration = try Self.configuration(kernel: Self.kernel)
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.bootPayload = [0xF4]
        #expect(throws: MachineError.payloadAndMultibootKernel) { try configuration.validate() }
    }

    /// Every Multiboot error is one line that says what is wrong.
    @Test func errorsAreOneLine() {
        let errors: [MultibootError] = [
            .headerNotFound, .badChecksum(offset: 4), .videoModeRequired, .unsupportedRequirements(8), .addressFieldsTruncated,
            .noLoadAddresses, .elf(.notELF), .loadAddressAfterHeaderAddress, .loadAddressBeforeFileStart,
            .loadEndBeforeLoadAddress, .loadEndBeyondFile(needed: 9, fileSize: 8), .bssEndBeforeLoadEnd, .imageBeyond4GiB,
            .kernelOutsideRAM(0xA0000, 0xA1000), .kernelOverlapsBootInformation(0x9_0000, 0x9_1000),
            .modulesDoNotFit(end: 0x300_0000, ramEnd: 0x200_0000), .bootInformationTooLarge(size: 70000, capacity: 64512),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"), "\(error)")
        }
        #expect(MultibootError.kernelOutsideRAM(0xA0000, 0xA1000).description.contains("0xa0000–0xa1000"))
        #expect(MultibootError.bootInformationTooLarge(size: 70000, capacity: 64512).description.contains("70000"))
    }
}
