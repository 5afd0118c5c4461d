/// The resources a device uses or a bridge passes on, as `_CRS` returns them (ACPI 6.5 §6.4,
/// "Resource Data Types for ACPI"): a buffer of resource descriptors closed by an End Tag.
public struct AMLResourceTemplate: Hashable, Sendable {
    public var descriptors: [AMLResourceDescriptor]

    public init(_ descriptors: [AMLResourceDescriptor]) {
        self.descriptors = descriptors
    }

    /// The descriptors, then the End Tag (ACPI 6.5 §6.4.2.9: small item 0Fh, length 1, so
    /// 79h, then the checksum byte). The checksum is zero, which the specification defines as
    /// a checksum that always succeeds, and which is what the ASL compiler `iasl` writes.
    public var bytes: [UInt8] {
        descriptors.flatMap(\.bytes) + [0x79, 0x00]
    }
}

/// One resource descriptor (ACPI 6.5 §6.4.2 small and §6.4.3 large resource data types).
public enum AMLResourceDescriptor: Hashable, Sendable {
    /// An I/O port range (ACPI 6.5 §6.4.2.5, small item 08h, length 7: tag 47h).
    case io(AMLIOPortDescriptor)
    /// ISA interrupts (ACPI 6.5 §6.4.2.1, small item 04h).
    case irq(AMLIRQDescriptor)
    /// A fixed 32-bit memory range (ACPI 6.5 §6.4.3.4, large item 06h, length 9: tag 86h).
    case fixedMemory32(base: UInt32, length: UInt32, writable: Bool)
    /// A word, double-word or quad-word address space (ACPI 6.5 §6.4.3.5).
    case addressSpace(AMLAddressSpaceDescriptor)

    /// `IO (Decode16, base, base, 1, length)`: a fixed range of 16-bit-decoded ports.
    public static func fixedIO(_ base: UInt16, length: UInt8) -> AMLResourceDescriptor {
        .io(AMLIOPortDescriptor(decodes16Bit: true, minimum: base, maximum: base, alignment: 1, length: length))
    }

    /// `IRQNoFlags () {lines}`: ISA interrupts that are edge-triggered, active high, exclusive.
    public static func irqNoFlags(_ lines: UInt8...) -> AMLResourceDescriptor {
        .irq(AMLIRQDescriptor(lines: lines, flags: nil))
    }

    /// `IRQ (trigger, polarity, sharing) {lines}`: ISA interrupts with their flags.
    public static func irq(_ lines: UInt8..., flags: AMLIRQDescriptor.Flags) -> AMLResourceDescriptor {
        .irq(AMLIRQDescriptor(lines: lines, flags: flags))
    }

    /// `WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, length)`:
    /// the bus numbers a PCI host bridge decodes (`range` must not be all 65536 of them).
    public static func wordBusNumber(_ range: ClosedRange<UInt16>) -> AMLResourceDescriptor {
        .addressSpace(.producerWindow(.word, .busNumber, range: UInt64(range.lowerBound)...UInt64(range.upperBound)))
    }

    /// `WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0,
    /// length)`: an I/O window a bridge passes on (`range` must not be all 65536 ports).
    public static func wordIO(_ range: ClosedRange<UInt16>) -> AMLResourceDescriptor {
        .addressSpace(.producerWindow(.word, .io(.entireRange), range: UInt64(range.lowerBound)...UInt64(range.upperBound)))
    }

    /// `DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, cacheability, ReadWrite,
    /// 0, min, max, 0, length)`: a memory window a bridge passes on (`range` must not be the
    /// whole 4 GiB).
    public static func dwordMemory(_ range: ClosedRange<UInt32>,
                                   cacheability: AMLAddressSpaceDescriptor.Cacheability) -> AMLResourceDescriptor {
        .addressSpace(.producerWindow(.dword, .memory(cacheability, writable: true),
                                      range: UInt64(range.lowerBound)...UInt64(range.upperBound)))
    }

    /// The descriptor's bytes.
    public var bytes: [UInt8] {
        switch self {
        case .io(let descriptor): descriptor.bytes
        case .irq(let descriptor): descriptor.bytes
        case .fixedMemory32(let base, let length, let writable):
            [0x86, 9, 0, writable ? 1 : 0] + littleEndian(UInt64(base), size: 4) + littleEndian(UInt64(length), size: 4)
        case .addressSpace(let descriptor): descriptor.bytes
        }
    }
}

/// An I/O port descriptor (ACPI 6.5 §6.4.2.5): tag 47h, the decode flag (bit 0: 16-bit rather
/// than 10-bit decode), the lowest and highest base, the base alignment, the length.
public struct AMLIOPortDescriptor: Hashable, Sendable {
    public var decodes16Bit: Bool
    public var minimum: UInt16
    public var maximum: UInt16
    public var alignment: UInt8
    public var length: UInt8

    public init(decodes16Bit: Bool, minimum: UInt16, maximum: UInt16, alignment: UInt8, length: UInt8) {
        self.decodes16Bit = decodes16Bit
        self.minimum = minimum
        self.maximum = maximum
        self.alignment = alignment
        self.length = length
    }

    var bytes: [UInt8] {
        [0x47, decodes16Bit ? 1 : 0] + littleEndian(UInt64(minimum), size: 2) + littleEndian(UInt64(maximum), size: 2)
            + [alignment, length]
    }
}

/// An IRQ descriptor (ACPI 6.5 §6.4.2.1): a mask of ISA interrupts 0–15, then, in the
/// three-byte form, the flags. Without flags (tag 22h) the interrupts are edge-triggered,
/// active high and exclusive; with them the tag is 23h.
public struct AMLIRQDescriptor: Hashable, Sendable {
    /// The information byte: bit 0 edge-triggered (`_HE`), bit 3 active low (`_LL`), bit 4
    /// shared (`_SHR`), bit 5 wake capable (`_WKC`).
    public struct Flags: Hashable, Sendable {
        public var edgeTriggered: Bool
        public var activeLow: Bool
        public var shared: Bool
        public var wakeCapable: Bool

        public init(edgeTriggered: Bool, activeLow: Bool, shared: Bool, wakeCapable: Bool = false) {
            self.edgeTriggered = edgeTriggered
            self.activeLow = activeLow
            self.shared = shared
            self.wakeCapable = wakeCapable
        }

        var byte: UInt8 {
            (edgeTriggered ? 0x01 : 0) | (activeLow ? 0x08 : 0) | (shared ? 0x10 : 0) | (wakeCapable ? 0x20 : 0)
        }
    }

    /// Bit n set: ISA interrupt n.
    public var mask: UInt16
    /// The flags, or `nil` for the two-byte form.
    public var flags: Flags?

    /// The interrupts `lines` (each 0–15) with `flags`.
    public init(lines: [UInt8], flags: Flags?) {
        precondition(lines.allSatisfy { $0 < 16 }, "an IRQ descriptor names ISA interrupts 0-15")
        mask = lines.reduce(0) { $0 | 1 << $1 }
        self.flags = flags
    }

    var bytes: [UInt8] {
        let mask = littleEndian(UInt64(mask), size: 2)
        guard let flags else { return [0x22] + mask }
        return [0x23] + mask + [flags.byte]
    }
}

/// A word (tag 88h), double-word (87h) or quad-word (8Ah) address space descriptor (ACPI 6.5
/// §6.4.3.5.1–3): the resource type, the general flags, the type-specific flags, then
/// granularity, minimum, maximum, translation offset and length, each of the descriptor's width.
public struct AMLAddressSpaceDescriptor: Hashable, Sendable {
    /// How wide the address fields are.
    public enum Width: Hashable, Sendable {
        case word, dword, qword

        var tag: UInt8 { switch self { case .word: 0x88; case .dword: 0x87; case .qword: 0x8A } }
        var size: Int { switch self { case .word: 2; case .dword: 4; case .qword: 8 } }
    }

    /// Memory caching (type-specific flags bits 2–1, `_MEM`; ACPI 6.5 §6.4.3.5.5).
    public enum Cacheability: UInt8, Hashable, Sendable {
        case nonCacheable = 0, cacheable = 1, writeCombining = 2, prefetchable = 3
    }

    /// Which ports an I/O window covers (type-specific flags bits 1–0, `_RNG`).
    public enum IORange: UInt8, Hashable, Sendable {
        case nonISAOnly = 1, isaOnly = 2, entireRange = 3
    }

    /// The resource type (0 memory, 1 I/O, 2 bus number) and its type-specific flags.
    public enum Resource: Hashable, Sendable {
        /// Memory: bit 0 read-write (`_RW`), bits 2–1 the caching.
        case memory(Cacheability, writable: Bool)
        /// I/O: bits 1–0 the range.
        case io(IORange)
        /// Bus numbers: no type-specific flags.
        case busNumber

        /// The resource type byte and the type-specific flags byte.
        var typeAndFlags: (type: UInt8, flags: UInt8) {
            switch self {
            case .memory(let caching, let writable): (0, caching.rawValue << 1 | (writable ? 1 : 0))
            case .io(let range): (1, range.rawValue)
            case .busNumber: (2, 0)
            }
        }
    }

    public var width: Width
    public var resource: Resource
    /// Whether the device only consumes the range (general flags bit 0); `false` for a
    /// bridge that produces it for the devices behind it (`ResourceProducer`).
    public var consumerOnly: Bool
    /// Whether the range is decoded subtractively (general flags bit 1, `_DEC`).
    public var subtractiveDecode: Bool
    /// Whether the minimum and maximum are fixed (general flags bits 2 and 3, `_MIF`, `_MAF`).
    public var minimumFixed: Bool
    public var maximumFixed: Bool
    public var granularity: UInt64
    public var minimum: UInt64
    public var maximum: UInt64
    public var translationOffset: UInt64
    public var length: UInt64

    /// Every field; each address value must fit `width`.
    public init(width: Width, resource: Resource, consumerOnly: Bool, subtractiveDecode: Bool,
                minimumFixed: Bool, maximumFixed: Bool, granularity: UInt64, minimum: UInt64,
                maximum: UInt64, translationOffset: UInt64, length: UInt64) {
        let limit = width == .qword ? UInt64.max : (1 << (8 * UInt64(width.size))) - 1
        precondition([granularity, minimum, maximum, translationOffset, length].allSatisfy { $0 <= limit },
                     "an address space descriptor's values must fit its width")
        self.width = width
        self.resource = resource
        self.consumerOnly = consumerOnly
        self.subtractiveDecode = subtractiveDecode
        self.minimumFixed = minimumFixed
        self.maximumFixed = maximumFixed
        self.granularity = granularity
        self.minimum = minimum
        self.maximum = maximum
        self.translationOffset = translationOffset
        self.length = length
    }

    /// A window a bridge produces: the fixed range `range`, positive decode, no translation,
    /// granularity 0 (ACPI 6.5 §6.4.3.5, Table 6.42: fixed minimum and maximum with a non-zero
    /// length that equals maximum − minimum + 1).
    static func producerWindow(_ width: Width, _ resource: Resource, range: ClosedRange<UInt64>) -> Self {
        Self(width: width, resource: resource, consumerOnly: false, subtractiveDecode: false,
             minimumFixed: true, maximumFixed: true, granularity: 0, minimum: range.lowerBound,
             maximum: range.upperBound, translationOffset: 0, length: range.upperBound - range.lowerBound + 1)
    }

    var bytes: [UInt8] {
        let generalFlags: UInt8 = (consumerOnly ? 0x01 : 0) | (subtractiveDecode ? 0x02 : 0)
            | (minimumFixed ? 0x04 : 0) | (maximumFixed ? 0x08 : 0)
        let fields = [granularity, minimum, maximum, translationOffset, length]
            .flatMap { littleEndian($0, size: width.size) }
        let (type, typeFlags) = resource.typeAndFlags
        let body = [type, generalFlags, typeFlags] + fields
        return [width.tag] + littleEndian(UInt64(body.count), size: 2) + body
    }
}

/// The low `size` bytes of `value`, least significant first.
func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.append(littleEndian: value, size: size)
    return bytes
}
