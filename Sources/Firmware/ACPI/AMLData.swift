/// A constant AML data object (ACPI 6.5 §20.2.3, `DataObject`): what `Name` binds and what a
/// package holds.
public indirect enum AMLData: Hashable, Sendable, AMLEncodable, ExpressibleByIntegerLiteral,
                              ExpressibleByStringLiteral {
    /// An integer, in the shortest form that holds it: `ZeroOp`, `OneOp`, `OnesOp` (all 64 bits
    /// set, as a table of revision 2 or later reads it), or a byte, word, double-word or
    /// quad-word prefix and the value (ACPI 6.5 §20.2.3, `ComputationalData`).
    case integer(UInt64)
    /// An ASCII string (characters 01h–7Fh), `StringPrefix`, the characters, a null.
    case string(String)
    /// A buffer: `BufferOp`, `PkgLength`, its size as an integer, the bytes (ACPI 6.5 §20.2.5.4,
    /// `DefBuffer`).
    case buffer([UInt8])
    /// A package of at most 255 elements: `PackageOp`, `PkgLength`, the element count, the
    /// elements (ACPI 6.5 §20.2.5.4, `DefPackage`).
    case package([AMLData])

    /// A compressed EISA ID, which ASL writes `EISAID ("PNP0A03")`: an integer.
    public static func eisaID(_ id: EISAID) -> AMLData { .integer(UInt64(id.value)) }

    /// A resource template (ACPI 6.5 §19.3.3, `ResourceTemplate`): a buffer of descriptors.
    public static func resourceTemplate(_ template: AMLResourceTemplate) -> AMLData { .buffer(template.bytes) }

    public init(integerLiteral value: UInt64) { self = .integer(value) }

    public init(stringLiteral value: String) { self = .string(value) }

    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .integer(let value):
            AMLData.encode(integer: value, into: &bytes)
        case .string(let text):
            precondition(text.utf8.allSatisfy { (0x01...0x7F).contains($0) }, "an AML string holds ASCII 01h-7Fh only")
            bytes.append(AMLOpcode.stringPrefix)
            bytes.append(contentsOf: text.utf8)
            bytes.append(0)
        case .buffer(let content):
            bytes.appendPackage(opcode: [AMLOpcode.buffer]) { body in
                AMLData.encode(integer: UInt64(content.count), into: &body)
                body.append(contentsOf: content)
            }
        case .package(let elements):
            precondition(elements.count <= 255, "a package holds at most 255 elements")
            bytes.appendPackage(opcode: [AMLOpcode.package]) { body in
                body.append(UInt8(elements.count))
                elements.encode(into: &body)
            }
        }
    }

    static func encode(integer value: UInt64, into bytes: inout [UInt8]) {
        switch value {
        case 0: bytes.append(AMLOpcode.zero)
        case 1: bytes.append(AMLOpcode.one)
        case .max: bytes.append(AMLOpcode.ones)
        case ...0xFF: bytes.append(contentsOf: [AMLOpcode.bytePrefix, UInt8(value)])
        case ...0xFFFF: bytes.append(AMLOpcode.wordPrefix); bytes.append(littleEndian: value, size: 2)
        case ...0xFFFF_FFFF: bytes.append(AMLOpcode.dwordPrefix); bytes.append(littleEndian: value, size: 4)
        default: bytes.append(AMLOpcode.qwordPrefix); bytes.append(littleEndian: value, size: 8)
        }
    }
}

/// A compressed EISA identifier (ACPI 6.5 §19.6.35, `EISAID`), the integer form of a device's
/// `_HID` such as `PNP0A03`: the three letters as 5-bit values (`A` is 1) in bits 14–0 of a
/// big-endian word, then the four hexadecimal digits as a big-endian word, read as one
/// little-endian double word — so `PNP0A03` is 0x030AD041.
public struct EISAID: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The identifier as the double word `_HID` evaluates to.
    public let value: UInt32
    public let description: String

    /// The identifier spelled `text`: three letters `A`–`Z`, four hexadecimal digits.
    public init(parsing text: String) throws(AMLError) {
        let characters = Array(text.utf8)
        guard characters.count == 7,
              characters[0..<3].allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }),
              let product = UInt16(String(text.dropFirst(3)), radix: 16),
              characters[3...].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { throw .invalidEISAID(text) }
        let vendor = characters[0..<3].reduce(UInt16(0)) { $0 << 5 | UInt16($1 - 0x40) }
        let bytes = [UInt8(vendor >> 8), UInt8(vendor & 0xFF), UInt8(product >> 8), UInt8(product & 0xFF)]
        value = bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) }
        description = text
    }

    /// The identifier spelled by a literal in the program; an invalid literal is a programming
    /// error and traps.
    public init(stringLiteral text: String) {
        do { try self.init(parsing: text) } catch { preconditionFailure("\(error)") }
    }
}

extension [UInt8] {
    /// Appends the low `size` bytes of `value`, least significant first.
    mutating func append(littleEndian value: UInt64, size: Int) {
        for index in 0..<size { append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}
