/// The address space an operation region lies in (ACPI 6.5 §19.6.100, `RegionSpace`, and
/// §20.2.5.2, `RegionSpace`).
public enum AMLRegionSpace: UInt8, Hashable, Sendable {
    case systemMemory = 0
    case systemIO = 1
    case pciConfiguration = 2
    case embeddedController = 3
    case smbus = 4
    case systemCMOS = 5
}

/// The flags byte of a `Field` (ACPI 6.5 §20.2.5.2, `FieldFlags`; §19.6.48, `Field`): bits 3–0
/// the access type, bit 4 the lock rule, bits 6–5 the update rule.
public struct AMLFieldFlags: Hashable, Sendable {
    /// How the region is accessed (`AccessType`).
    public enum Access: UInt8, Hashable, Sendable {
        case any = 0, byte = 1, word = 2, dword = 3, qword = 4, buffer = 5
    }

    /// What happens to the bits of an access that lie outside the field (`UpdateRule`).
    public enum Update: UInt8, Hashable, Sendable {
        case preserve = 0, writeAsOnes = 1, writeAsZeros = 2
    }

    public var access: Access
    /// Whether an access takes the ACPI global lock (`Lock` rather than `NoLock`).
    public var locks: Bool
    public var update: Update

    public init(access: Access, locks: Bool = false, update: Update = .preserve) {
        self.access = access
        self.locks = locks
        self.update = update
    }

    var byte: UInt8 { access.rawValue | (locks ? 0x10 : 0) | update.rawValue << 5 }
}

/// One entry of a `Field`'s list (ACPI 6.5 §20.2.5.2, `FieldElement`).
public enum AMLFieldUnit: Hashable, Sendable, AMLEncodable {
    /// A named field unit of that many bits: the name, then the width in `PkgLength` form
    /// (`NamedField`).
    case named(AMLNameSegment, bits: Int)
    /// Bits skipped: a zero byte, then the width in `PkgLength` form (`ReservedField`; ASL
    /// writes `Offset` or an empty name).
    case reserved(bits: Int)

    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .named(let name, let bits):
            name.encode(into: &bytes)
            bytes.append(contentsOf: AMLPackageLength.encoding(of: bits))
        case .reserved(let bits):
            bytes.append(AMLOpcode.zero)
            bytes.append(contentsOf: AMLPackageLength.encoding(of: bits))
        }
    }
}
