import Firmware
import Testing

/// The AML encoder against byte sequences the ACPI 6.5 specification's grammar (§20) gives,
/// and against what Debian's `iasl` 20200925 compiled from the same ASL.
@Suite struct ACPIAMLEncoderTests {
    // MARK: PkgLength (§20.2.4)

    @Test(arguments: [
        (0, [0x00]), (63, [0x3F]),                                  // one byte up to 63
        (64, [0x40, 0x04]), (4095, [0x4F, 0xFF]),                   // two: bits 7-6 = 1, low nibble, then bits 11-4
        (4096, [0x80, 0x00, 0x01]), (0xF_FFFF, [0x8F, 0xFF, 0xFF]), // three
        (0x10_0000, [0xC0, 0x00, 0x00, 0x01]), (0x0FFF_FFFF, [0xCF, 0xFF, 0xFF, 0xFF]), // four
    ] as [(Int, [UInt8])])
    func packageLengthOfAValue(value: Int, bytes: [UInt8]) {
        #expect(AMLPackageLength.encoding(of: value) == bytes)
    }

    /// The length counts its own bytes: a 62-byte body fits one byte (63), a 63-byte body
    /// needs two (65); a 4093-byte body fits two (4095), a 4094-byte body needs three (4097).
    @Test(arguments: [
        (62, [0x3F]), (63, [0x41, 0x04]), (4093, [0x4F, 0xFF]), (4094, [0x81, 0x00, 0x01]),
        (0xF_FFFC, [0x8F, 0xFF, 0xFF]), (0xF_FFFD, [0xC1, 0x00, 0x00, 0x01]),
    ] as [(Int, [UInt8])])
    func packageLengthPrecedingABody(bodyLength: Int, bytes: [UInt8]) {
        #expect(AMLPackageLength.encoding(forBodyLength: bodyLength) == bytes)
    }

    /// A buffer whose body crosses the one-byte boundary switches to the two-byte form.
    @Test func buffersAcrossThePackageLengthBoundary() {
        // Body: BytePrefix 3Ch (the size) and 60 bytes = 62: PkgLength 63 in one byte.
        let small = AMLData.buffer(Array(repeating: 0xAA, count: 60)).amlBytes
        #expect(Array(small.prefix(4)) == [0x11, 0x3F, 0x0A, 0x3C])
        #expect(small.count == 64)
        // Body: BytePrefix 3Dh and 61 bytes = 63: PkgLength 65 in two bytes.
        let large = AMLData.buffer(Array(repeating: 0xAA, count: 61)).amlBytes
        #expect(Array(large.prefix(5)) == [0x11, 0x41, 0x04, 0x0A, 0x3D])
        #expect(large.count == 66)
    }

    // MARK: Integers (§20.2.3)

    @Test(arguments: [
        (0, [0x00]), (1, [0x01]), (2, [0x0A, 0x02]), (0xFF, [0x0A, 0xFF]),
        (0x100, [0x0B, 0x00, 0x01]), (0xFFFF, [0x0B, 0xFF, 0xFF]),
        (0x1_0000, [0x0C, 0x00, 0x00, 0x01, 0x00]), (0xFFFF_FFFF, [0x0C, 0xFF, 0xFF, 0xFF, 0xFF]),
        (0x1_0000_0000, [0x0E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]),
        (0xFFFF_FFFF_FFFF_FFFE, [0x0E, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        (UInt64.max, [0xFF]),
    ] as [(UInt64, [UInt8])])
    func integersTakeTheShortestForm(value: UInt64, bytes: [UInt8]) {
        #expect(AMLData.integer(value).amlBytes == bytes)
    }

    // MARK: EISAID (§19.6.35)

    @Test(arguments: [
        ("PNP0A03", 0x030A_D041), ("PNP0C0C", 0x0C0C_D041), ("PNP0501", 0x0105_D041),
        ("PNP0B00", 0x000B_D041), ("PNP0303", 0x0303_D041), ("PNP0C02", 0x020C_D041),
    ] as [(String, UInt32)])
    func eisaIDsCompress(text: String, value: UInt32) throws {
        #expect(try EISAID(parsing: text).value == value)
        #expect(AMLData.eisaID(try EISAID(parsing: text)).amlBytes == [0x0C] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }

    @Test(arguments: ["pnp0a03", "PNP0A0", "PNP0A0G", "PN10A03", "PNP+A03", "PNP0A033", ""])
    func malformedEISAIDsAreRejected(text: String) {
        #expect(throws: AMLError.invalidEISAID(text)) { try EISAID(parsing: text) }
    }

    // MARK: Names (§20.2.2)

    @Test(arguments: [
        ("_SB", [0x5F, 0x53, 0x42, 0x5F]),
        ("\\_SB.PCI0", [0x5C, 0x2E, 0x5F, 0x53, 0x42, 0x5F, 0x50, 0x43, 0x49, 0x30]),
        ("\\_SB.PCI0.LPCB", [0x5C, 0x2F, 0x03] + Array("_SB_PCI0LPCB".utf8)),
        ("^^ABC", [0x5E, 0x5E, 0x41, 0x42, 0x43, 0x5F]),
        ("^PCI0.LPCB", [0x5E, 0x2E] + Array("PCI0LPCB".utf8)),
        ("\\", [0x5C, 0x00]),
        ("\\_S5", [0x5C, 0x5F, 0x53, 0x35, 0x5F]),
    ] as [(String, [UInt8])])
    func nameStrings(text: String, bytes: [UInt8]) throws {
        #expect(try AMLNameString(parsing: text).amlBytes == bytes)
    }

    @Test(arguments: ["", "1ABC", "ABCDE", "a", "\\_SB..X", "_SB.", "A-B", "\\_SB.pci0", "\\^ABC"])
    func malformedNameStringsAreRejected(text: String) {
        #expect(throws: AMLError.invalidNameString(text)) { try AMLNameString(parsing: text) }
    }

    @Test func nameSegmentsArePaddedWithUnderscores() throws {
        #expect(try AMLNameSegment(parsing: "S").description == "S___")
        #expect(try AMLNameString(parsing: "\\_SB.PCI").description == "\\_SB_.PCI_")
        #expect(throws: AMLError.invalidNameSegment("9A")) { try AMLNameSegment(parsing: "9A") }
    }

    // MARK: Data objects

    @Test func stringsAreNullTerminated() {
        #expect(AMLData.string("ACPI0007").amlBytes == [0x0D] + Array("ACPI0007".utf8) + [0x00])
    }

    /// `Name (_S5, Package (0x04) {0x07, 0x07, Zero, Zero})`.
    @Test func aSleepPackage() {
        let statement = AMLStatement.name("_S5", .package([7, 7, 0, 0]))
        #expect(statement.amlBytes == [0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04, 0x0A, 0x07, 0x0A, 0x07, 0x00, 0x00])
    }

    // MARK: Statements

    /// `Method (M1, 2, Serialized) { Store (Arg0, Local0) If (LEqual (Local0, 0x1234)) {
    /// Return (ShiftLeft (Arg1, 3)) } Else { Return (Or (And (Arg1, 0xFF), 0x100)) } }`, as
    /// `iasl` compiles it.
    @Test func aMethodWithStoreIfElseAndArithmetic() {
        let method = AMLStatement.method("M1", argumentCount: 2, serialized: true, [
            .store(.argument(.arg0), into: .local(.local0)),
            .if(.logicalEqual(.local(.local0), 0x1234),
                then: [.return(.shiftLeft(.argument(.arg1), by: 3))],
                else: [.return(.or(.and(.argument(.arg1), 0xFF), 0x100))]),
        ])
        #expect(method.amlBytes == [
            0x14, 0x23, 0x4D, 0x31, 0x5F, 0x5F, 0x0A,                   // MethodOp, PkgLength, M1__, flags
            0x70, 0x68, 0x60,                                           // Store (Arg0, Local0)
            0xA0, 0x0C, 0x93, 0x60, 0x0B, 0x34, 0x12,                   // If (LEqual (Local0, 0x1234))
            0xA4, 0x79, 0x69, 0x0A, 0x03, 0x00,                         //   Return (ShiftLeft (Arg1, 3))
            0xA1, 0x0C, 0xA4, 0x7D, 0x7B, 0x69, 0x0A, 0xFF, 0x00, 0x0B, 0x00, 0x01, 0x00, // Else Return (Or (And (...)))
        ])
    }

    /// `Device (PWRB) { Name (_HID, EisaId ("PNP0C0C")) }`: ExtOpPrefix DeviceOp.
    @Test func aDevice() {
        let device = AMLStatement.device("PWRB", [.name("_HID", .eisaID("PNP0C0C"))])
        #expect(device.amlBytes == [0x5B, 0x82, 0x0F] + Array("PWRB".utf8) + [0x08] + Array("_HID".utf8)
            + [0x0C, 0x41, 0xD0, 0x0C, 0x0C])
    }

    /// `OperationRegion (PMIO, SystemIO, 0x0600, 0x30)` and `Field (PMIO, WordAcc, NoLock,
    /// WriteAsZeros) { PSTS, 16, Offset (0x04), PCNT, 16 }`.
    @Test func anOperationRegionAndItsField() {
        let region = AMLStatement.operationRegion("PMIO", space: .systemIO, offset: 0x600, length: 0x30)
        #expect(region.amlBytes == [0x5B, 0x80] + Array("PMIO".utf8) + [0x01, 0x0B, 0x00, 0x06, 0x0A, 0x30])
        let field = AMLStatement.field("PMIO", AMLFieldFlags(access: .word, update: .writeAsZeros), [
            .named("PSTS", bits: 16), .reserved(bits: 16), .named("PCNT", bits: 16),
        ])
        #expect(field.amlBytes == [0x5B, 0x81, 0x12] + Array("PMIO".utf8) + [0x42]
            + Array("PSTS".utf8) + [0x10, 0x00, 0x10] + Array("PCNT".utf8) + [0x10])
    }
}
