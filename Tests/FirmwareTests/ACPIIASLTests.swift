import Firmware
import Foundation
import Testing

/// Debian's `iasl` (acpica-tools), an independent implementation of the ACPI table formats and
/// of AML, as the oracle: it disassembles every table, recompiles the DSDT, and compiles ASL
/// whose bytes the encoder must match. Skipped only when `iasl` is not installed.
@Suite(.enabled(if: IASL.path != nil,
                "iasl is not installed: `apt-get install acpica-tools` (.ci/run installs it) to check the ACPI tables"))
struct ACPIIASLTests {
    static let base = ACPIConfiguration(processorCount: 4, pciMemoryWindowStart: 0x0800_0000)

    /// Board variants: the reset register in each space and none, ACPI always on, one and
    /// eight processors, other sleep types, a moved PM block and a panic device.
    static let configurations: [ACPIConfiguration] = [
        base,
        changed { $0.resetRegister = .systemMemory(address: 0xFEDF_0000, value: 0x01) },
        changed { $0.resetRegister = .pciConfiguration(PCIFunctionAddress(device: 0x1F, function: 0), offset: 0xAC, value: 0x06) },
        changed { $0.resetRegister = .none; $0.processorCount = 1; $0.modeControl = .alwaysEnabled },
        changed {
            $0.processorCount = 8
            $0.sleepTypes = ACPISleepTypes(s0: 0, s3: 1, s5: 2)
            $0.powerManagementBase = 0xB000
            $0.panicDevicePort = 0x505
        },
    ]

    static func changed(_ change: (inout ACPIConfiguration) -> Void) -> ACPIConfiguration {
        var configuration = base
        change(&configuration)
        return configuration
    }

    static let tablesBase: UInt32 = 0x07FE_0000
    static let rsdpAddress: UInt32 = 0x000F_0000

    /// `iasl -d` decodes every table but the RSDP (which it reads only from memory) with no
    /// error and no warning — but one: iasl's file loader checks every table's bytes 10–27 as a
    /// standard header's OEM fields, which the FACS does not have (there its hardware signature
    /// and waking vector sit), and warns about non-ASCII bytes there.
    @Test(arguments: configurations)
    func everyTableDisassembles(configuration: ACPIConfiguration) throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        let layout = try ACPITables(configuration).layout(at: Self.tablesBase, rsdpAddress: Self.rsdpAddress)
        for placement in layout.tables {
            let name = placement.table.signature.lowercased()
            try iasl.write(placement.table.bytes, to: "\(name).dat")
            let (status, output) = try iasl.run(["-d", "\(name).dat"])
            #expect(status == 0, "iasl -d \(name).dat: \(output)")
            var complaints = output.split(separator: "\n").filter { $0.contains("Error") || $0.contains("Warning") }
            if name == "facs" { complaints.removeAll { $0.contains("Table header for [FACS] has invalid ASCII character") } }
            #expect(complaints.isEmpty, "iasl -d \(name).dat: \(output)")
            #expect(try !iasl.read("\(name).dsl").isEmpty)
        }
    }

    /// What iasl reads from the FADT and the MADT: the fields at the offsets ACPI 6.5 gives them,
    /// named and decoded by an implementation that is not this project's.
    @Test func iaslReadsTheFieldsOfTheFADTAndMADT() throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        let layout = try ACPITables(Self.configurations[2]).layout(at: Self.tablesBase, rsdpAddress: Self.rsdpAddress)
        let facs = try #require(layout.address(of: "FACS")), dsdt = try #require(layout.address(of: "DSDT"))
        for placement in layout.tables where ["FACP", "APIC"].contains(placement.table.signature) {
            try iasl.write(placement.table.bytes, to: "\(placement.table.signature).dat")
            _ = try iasl.run(["-d", "\(placement.table.signature).dat"])
        }
        let fadt = try Self.fields(String(decoding: iasl.read("FACP.dsl"), as: UTF8.self))
        let hex8 = { (value: UInt32) in String(value, radix: 16, uppercase: true).leftPadded(to: 8) }
        let hex16 = { (value: UInt32) in String(value, radix: 16, uppercase: true).leftPadded(to: 16) }
        #expect(fadt[36] == "FACS Address : \(hex8(facs))")
        #expect(fadt[40] == "DSDT Address : \(hex8(dsdt))")
        #expect(fadt[46] == "SCI Interrupt : 0009")
        #expect(fadt[56] == "PM1A Event Block Address : 00000600")
        #expect(fadt[64] == "PM1A Control Block Address : 00000604")
        #expect(fadt[76] == "PM Timer Block Address : 00000608")
        #expect(fadt[80] == "GPE0 Block Address : 00000620")
        #expect(fadt[108] == "RTC Century Index : 32")
        #expect(fadt[109] == "Boot Flags (decoded below) : 0003")
        #expect(fadt[116] == "Space ID : 02 [PCI_Config]")
        #expect(fadt[117] == "Bit Width : 08")
        #expect(fadt[120] == "Address : 0000001F000000AC")
        #expect(fadt[128] == "Value to cause reset : 06")
        #expect(fadt[131] == "FADT Minor Revision : 05")
        #expect(fadt[132] == "FACS Address : \(hex16(facs))")
        #expect(fadt[140] == "DSDT Address : \(hex16(dsdt))")
        let fadtText = String(decoding: try iasl.read("FACP.dsl"), as: UTF8.self)
        #expect(fadtText.contains(#/Reset Register Supported \(V2\) : 1/#))
        #expect(fadtText.contains(#/8042 Present on ports 60/64 \(V2\) : 1/#))
        #expect(fadtText.contains(#/Control Method Power Button \(V1\) : 0/#))

        let madt = try Self.fields(String(decoding: iasl.read("APIC.dsl"), as: UTF8.self))
        #expect(madt[36] == "Local Apic Address : FEE00000")
        #expect(madt[44] == "Subtable Type : 00 [Processor Local APIC]")
        #expect(madt[44 + 3 * 8 + 3] == "Local Apic ID : 03")
        #expect(madt[76] == "Subtable Type : 01 [I/O APIC]")
        #expect(madt[88] == "Subtable Type : 02 [Interrupt Source Override]")
        #expect(madt[92] == "Interrupt : 00000002")
        #expect(madt[101] == "Source : 09")
        #expect(madt[106] == "Flags (decoded below) : 000F")
        #expect(madt[108] == "Subtable Type : 04 [Local APIC NMI]")
        #expect(madt[113] == "Interrupt Input LINT : 01")
    }

    /// The disassembled data tables compile back, with iasl's data-table compiler, to the very
    /// bytes they came from — but the header's checksum and creator, which the compiler makes
    /// its own (the FACS, with no header, comes back whole).
    @Test(arguments: configurations)
    func everyDataTableCompilesBackToItsBytes(configuration: ACPIConfiguration) throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        let layout = try ACPITables(configuration).layout(at: Self.tablesBase, rsdpAddress: Self.rsdpAddress)
        for placement in layout.tables where placement.table.signature != "DSDT" {
            let name = placement.table.signature.lowercased()
            try iasl.write(placement.table.bytes, to: "\(name).dat")
            _ = try iasl.run(["-d", "\(name).dat"])
            let (status, output) = try iasl.run(["-p", "\(name)-again", "\(name).dsl"])
            #expect(status == 0 && output.contains("0 Errors, 0 Warnings"), "iasl \(name).dsl: \(output)")
            try Self.expectSameTable([UInt8](iasl.read("\(name)-again.aml")), placement.table.bytes, name)
        }
    }

    /// The DSDT disassembles, and the ASL compiles back with no error or warning to the same
    /// AML, byte for byte: every encoding is the one iasl itself chooses.
    @Test(arguments: configurations)
    func theDSDTCompilesBackToItsBytes(configuration: ACPIConfiguration) throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        let dsdt = try ACPITables(configuration).dsdt.bytes
        try iasl.write(dsdt, to: "dsdt.dat")
        let disassembly = try iasl.run(["-d", "dsdt.dat"])
        #expect(disassembly.status == 0, "\(disassembly.output)")
        let (status, output) = try iasl.run(["-p", "dsdt-again", "dsdt.dsl"])
        #expect(status == 0 && output.contains("0 Errors, 0 Warnings, 0 Remarks"), "iasl dsdt.dsl: \(output)")
        try Self.expectSameTable([UInt8](iasl.read("dsdt-again.aml")), dsdt, "dsdt")
    }

    /// The RSDP as iasl's data-table compiler builds it from the same field values, checksums
    /// included.
    @Test func theRSDPMatchesTheCompilers() throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        let layout = try ACPITables(Self.base).layout(at: Self.tablesBase, rsdpAddress: Self.rsdpAddress)
        let rsdt = try #require(layout.address(of: "RSDT")), xsdt = try #require(layout.address(of: "XSDT"))
        try iasl.write("""
            [0008]                          Signature : "RSD PTR "
            [0001]                           Checksum : 00
            [0006]                             Oem ID : "RSTVEC"
            [0001]                           Revision : 02
            [0004]                       RSDT Address : \(String(rsdt, radix: 16).leftPadded(to: 8))
            [0004]                             Length : 00000024
            [0008]                       XSDT Address : \(String(xsdt, radix: 16).leftPadded(to: 16))
            [0001]                  Extended Checksum : 00
            [0003]                           Reserved : 000000

            """, to: "rsdp.asl")
        let (status, output) = try iasl.run(["rsdp.asl"])
        #expect(status == 0 && output.contains("0 Errors, 0 Warnings"), "iasl rsdp.asl: \(output)")
        #expect([UInt8](try iasl.read("rsdp.aml")) == layout.rsdp)
    }

    /// ASL using every construct the encoder offers, compiled by iasl (named-reference
    /// optimization off, so paths stay as written), against the encoder's bytes for the same
    /// terms — including PkgLengths of one, two and three bytes.
    @Test func theEncoderAgreesWithTheCompiler() throws {
        let iasl = try IASL()
        defer { iasl.remove() }
        try iasl.write(EncoderSample.asl, to: "sample.asl")
        let (status, output) = try iasl.run(["-on", "sample.asl"])
        #expect(status == 0 && output.contains("0 Errors, 0 Warnings"), "iasl sample.asl: \(output)")
        let compiled = [UInt8](try iasl.read("sample.aml"))
        let encoded = EncoderSample.terms.amlBytes
        #expect(compiled.count == ACPITableHeader.size + encoded.count)
        let first = zip(compiled.dropFirst(ACPITableHeader.size), encoded).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(first == nil, "first difference at AML offset \(first!.offset): iasl \(first!.element.0), encoder \(first!.element.1)")
    }

    /// `compiled` equals `original` but for the checksum and the creator ID and revision.
    static func expectSameTable(_ compiled: [UInt8], _ original: [UInt8], _ name: String) throws {
        #expect(compiled.count == original.count, "\(name): \(compiled.count) bytes, not \(original.count)")
        let ignored = original.starts(with: Array("FACS".utf8)) ? [] : [ACPITableHeader.checksumOffset] + Array(28..<36)
        let differences = zip(compiled, original).enumerated().filter { !ignored.contains($0.offset) && $0.element.0 != $0.element.1 }
        #expect(differences.isEmpty, "\(name) differs at offsets \(differences.prefix(8).map(\.offset))")
        #expect(ACPIChecksum.sum(compiled) == 0 || name == "facs")
    }

    /// The `[offset decimal length] Name : Value` lines of an iasl data-table disassembly as
    /// `Name : Value`, by decimal offset (the last line at each offset: a Generic Address
    /// Structure's title shares its offset with its first field).
    static func fields(_ disassembly: String) throws -> [Int: String] {
        var fields: [Int: String] = [:]
        let line = #/^\[[0-9A-F]+h (\d+) +\d+\] +(.+?) : (.*)$/#
        for text in disassembly.split(separator: "\n") {
            guard let match = try line.wholeMatch(in: text), let offset = Int(match.1) else { continue }
            fields[offset] = "\(match.2) : \(match.3)"
        }
        return fields
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// Runs `iasl` in a scratch directory.
struct IASL {
    /// The `iasl` found on `PATH`, if any.
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        .split(separator: ":").map { "\($0)/iasl" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("iasl-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ bytes: [UInt8], to name: String) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    func read(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    /// Runs `iasl arguments` and returns its exit status and everything it printed.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(IASL.path))
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// The same definitions twice: as ASL for iasl, and as the encoder's terms.
enum EncoderSample {
    /// 70 bytes: a buffer whose PkgLength takes two bytes.
    static let mediumBuffer = (0..<70).map { UInt8($0) }
    /// 5000 bytes: a buffer whose PkgLength takes three bytes.
    static let largeBuffer = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }

    static func asl(_ bytes: [UInt8]) -> String {
        bytes.map { "0x" + String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: ", ")
    }

    static let asl = """
        DefinitionBlock ("", "SSDT", 2, "RSTVEC", "RVPC    ", 1)
        {
            Name (INTS, Package (0x0A) { Zero, One, 0x02, 0xFF, 0x0100, 0xFFFF, 0x00010000, 0xFFFFFFFF,
                                         0x0000000100000000, Ones })
            Name (STR0, "ResetVector")
            Name (BUF0, Buffer (0x03) { 0x01, 0x02, 0x03 })
            Name (BUF1, Buffer (0x46) { \(asl(mediumBuffer)) })
            Name (BUF2, Buffer (0x1388) { \(asl(largeBuffer)) })
            Name (NEST, Package (0x02) { Package (0x01) { "A" }, Buffer (0x01) { 0xAA } })
            Scope (_SB)
            {
                Name (\\RTNM, 0x2A)
                Device (DEV0)
                {
                    Name (_HID, EisaId ("PNP0C02"))
                    Name (_UID, "first")
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0600, 0x0600, 0x01, 0x30)
                        IO (Decode10, 0x0100, 0x01F0, 0x10, 0x08)
                        IRQNoFlags () {3, 4}
                        IRQ (Level, ActiveLow, Shared, ) {9}
                        Memory32Fixed (ReadOnly, 0xFED00000, 0x00000400)
                        WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                        WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                        DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                                     0x00000000, 0x80000000, 0xFEBFFFFF, 0x00000000, 0x7EC00000)
                    })
                    OperationRegion (PMIO, SystemIO, 0x0600, 0x30)
                    Field (PMIO, WordAcc, NoLock, WriteAsZeros) { PSTS, 16, Offset (0x04), PCNT, 16 }
                    OperationRegion (CMOS, SystemCMOS, Zero, 0x80)
                    Field (CMOS, ByteAcc, Lock, Preserve) { , 8, CENT, 8 }
                    Method (_STA, 0, NotSerialized) { Return (0x0F) }
                    Method (M1, 2, Serialized)
                    {
                        Store (Arg0, Local0)
                        If (LEqual (Local0, 0x1234)) { Return (ShiftLeft (Arg1, 0x03)) }
                        Else { Return (Or (And (Arg1, 0xFF), 0x0100)) }
                    }
                    Method (M2, 1, NotSerialized)
                    {
                        Add (Arg0, One, Local1)
                        ShiftRight (Local1, 0x02, Local2)
                        If (LOr (LAnd (Local1, Local2), LNot (Arg0))) { Notify (^^DEV0, 0x80) }
                        Store (PCNT, Local7)
                        Store (Local7, \\RTNM)
                        Store (\\_SB.DEV0.PSTS, Local3)
                        Return (Local3)
                    }
                }
            }
        }

        """

    static let terms: [AMLStatement] = [
        .name("INTS", .package([0, 1, 2, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0xFFFF_FFFF, 0x1_0000_0000, .integer(.max)])),
        .name("STR0", "ResetVector"),
        .name("BUF0", .buffer([1, 2, 3])),
        .name("BUF1", .buffer(mediumBuffer)),
        .name("BUF2", .buffer(largeBuffer)),
        .name("NEST", .package([.package(["A"]), .buffer([0xAA])])),
        .scope("_SB", [
            .name("\\RTNM", 0x2A),
            .device("DEV0", [
                .name("_HID", .eisaID("PNP0C02")),
                .name("_UID", "first"),
                .name("_CRS", .resourceTemplate(AMLResourceTemplate([
                    .fixedIO(0x600, length: 0x30),
                    .io(AMLIOPortDescriptor(decodes16Bit: false, minimum: 0x100, maximum: 0x1F0, alignment: 0x10, length: 8)),
                    .irqNoFlags(3, 4),
                    .irq(9, flags: AMLIRQDescriptor.Flags(edgeTriggered: false, activeLow: true, shared: true)),
                    .fixedMemory32(base: 0xFED0_0000, length: 0x400, writable: false),
                    .wordBusNumber(0...0xFF),
                    .wordIO(0...0xCF7),
                    .dwordMemory(0x8000_0000...0xFEBF_FFFF, cacheability: .nonCacheable),
                ]))),
                .operationRegion("PMIO", space: .systemIO, offset: 0x600, length: 0x30),
                .field("PMIO", AMLFieldFlags(access: .word, update: .writeAsZeros),
                       [.named("PSTS", bits: 16), .reserved(bits: 16), .named("PCNT", bits: 16)]),
                .operationRegion("CMOS", space: .systemCMOS, offset: 0, length: 0x80),
                .field("CMOS", AMLFieldFlags(access: .byte, locks: true), [.reserved(bits: 8), .named("CENT", bits: 8)]),
                .method("_STA", [.return(0x0F)]),
                .method("M1", argumentCount: 2, serialized: true, [
                    .store(.argument(.arg0), into: .local(.local0)),
                    .if(.logicalEqual(.local(.local0), 0x1234),
                        then: [.return(.shiftLeft(.argument(.arg1), by: 3))],
                        else: [.return(.or(.and(.argument(.arg1), 0xFF), 0x100))]),
                ]),
                .method("M2", argumentCount: 1, [
                    .evaluate(.add(.argument(.arg0), 1, into: .local(.local1))),
                    .evaluate(.shiftRight(.local(.local1), by: 2, into: .local(.local2))),
                    .if(.logicalOr(.logicalAnd(.local(.local1), .local(.local2)), .logicalNot(.argument(.arg0))),
                        then: [.notify(.name("^^DEV0"), 0x80)]),
                    .store(.name("PCNT"), into: .local(.local7)),
                    .store(.local(.local7), into: .name("\\RTNM")),
                    .store(.name("\\_SB.DEV0.PSTS"), into: .local(.local3)),
                    .return(.local(.local3)),
                ]),
            ]),
        ]),
    ]
}
