import Firmware
import Testing

/// Resource descriptors (ACPI 6.5 §6.4) against the bytes `iasl` 20200925 compiles from the
/// same ASL.
@Suite struct ACPIResourceTemplateTests {
    /// `IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)`.
    @Test func anIOPort() {
        #expect(AMLResourceDescriptor.fixedIO(0x3F8, length: 8).bytes == [0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08])
    }

    /// `IRQNoFlags () {4}` and `IRQ (Level, ActiveLow, Shared) {9}`, and two lines in one mask.
    @Test func irqs() {
        #expect(AMLResourceDescriptor.irqNoFlags(4).bytes == [0x22, 0x10, 0x00])
        #expect(AMLResourceDescriptor.irqNoFlags(1, 12).bytes == [0x22, 0x02, 0x10])
        let sci = AMLIRQDescriptor.Flags(edgeTriggered: false, activeLow: true, shared: true)
        #expect(AMLResourceDescriptor.irq(9, flags: sci).bytes == [0x23, 0x00, 0x02, 0x18])
        let edge = AMLIRQDescriptor.Flags(edgeTriggered: true, activeLow: false, shared: false, wakeCapable: true)
        #expect(AMLResourceDescriptor.irq(15, flags: edge).bytes == [0x23, 0x00, 0x80, 0x21])
    }

    /// `Memory32Fixed (ReadWrite, 0xFEC00000, 0x00001000)`.
    @Test func aFixedMemoryRange() {
        #expect(AMLResourceDescriptor.fixedMemory32(base: 0xFEC0_0000, length: 0x1000, writable: true).bytes
            == [0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xC0, 0xFE, 0x00, 0x10, 0x00, 0x00])
    }

    /// `WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, 0x0000, 0x00FF,
    /// 0x0000, 0x0100)` and `WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
    /// EntireRange, 0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)`.
    @Test func wordAddressSpaces() {
        #expect(AMLResourceDescriptor.wordBusNumber(0...0xFF).bytes
            == [0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x01])
        #expect(AMLResourceDescriptor.wordIO(0xD00...0xFFFF).bytes
            == [0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xF3])
    }

    /// `DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
    /// 0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)`.
    @Test func aDoubleWordMemoryWindow() {
        #expect(AMLResourceDescriptor.dwordMemory(0xA_0000...0xB_FFFF, cacheability: .cacheable).bytes
            == [0x87, 0x17, 0x00, 0x00, 0x0C, 0x03]
            + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0xFF, 0xFF, 0x0B, 0x00]
            + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00])
    }

    /// `Name (RT, ResourceTemplate () { IO (...) IRQNoFlags () {4} })`: a buffer whose size
    /// counts the End Tag (79h, checksum 0).
    @Test func aTemplateIsABufferClosedByTheEndTag() {
        let template = AMLResourceTemplate([.fixedIO(0x3F8, length: 8), .irqNoFlags(4)])
        #expect(template.bytes.suffix(2) == [0x79, 0x00])
        #expect(AMLStatement.name("RT", .resourceTemplate(template)).amlBytes
            == [0x08, 0x52, 0x54, 0x5F, 0x5F, 0x11, 0x10, 0x0A, 0x0D,
                0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00])
    }
}
