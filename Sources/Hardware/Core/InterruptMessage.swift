/// An interrupt message on the APIC bus (the system bus of xAPIC systems): what an I/O APIC
/// redirection entry or a local APIC's interrupt command register sends, and what the local
/// APICs it names accept (SDM Vol. 3A, 11.6.1 and 11.12; 82093AA I/O APIC datasheet, 3.2.4).
/// The machine routes messages; devices never call each other.
public struct InterruptMessage: Sendable, Equatable, CustomStringConvertible {
    /// How the destination local APICs act on the message.
    public enum DeliveryMode: UInt8, Sendable {
        case fixed = 0
        case lowestPriority = 1
        case systemManagement = 2
        case nonMaskable = 4
        case initialize = 5
        case startUp = 6
        case externalInterrupt = 7

        /// The name traces use.
        public var name: String {
            switch self {
            case .fixed: "fixed"
            case .lowestPriority: "lowest-priority"
            case .systemManagement: "smi"
            case .nonMaskable: "nmi"
            case .initialize: "init"
            case .startUp: "startup"
            case .externalInterrupt: "extint"
            }
        }
    }

    /// Who the message is for.
    public enum Destination: Sendable, Equatable, CustomStringConvertible {
        /// APIC ID `id` (0xFF: every local APIC).
        case physical(UInt8)
        /// Every local APIC whose logical destination (LDR, under DFR's model) matches the mask.
        case logical(UInt8)
        /// An x2APIC ICR's physical destination: x2APIC ID `id` (0xFFFFFFFF: every local APIC;
        /// SDM Vol. 3A, 11.12.9).
        case extendedPhysical(UInt32)
        /// An x2APIC ICR's logical destination: cluster in bits 31:16, a bit per APIC of the
        /// cluster in bits 15:0 (0xFFFFFFFF: every local APIC; SDM 11.12.10.2).
        case extendedLogical(UInt32)
        /// The ICR's shorthands.
        case selfOnly, allIncludingSelf, allExcludingSelf

        public var description: String {
            switch self {
            case .physical(let id): "physical \(id)"
            case .logical(let mask): "logical 0x" + String(mask, radix: 16)
            case .extendedPhysical(let id): "x2apic-physical \(id)"
            case .extendedLogical(let mask): "x2apic-logical 0x" + String(mask, radix: 16)
            case .selfOnly: "self"
            case .allIncludingSelf: "all"
            case .allExcludingSelf: "all-but-self"
            }
        }

        /// The ICR's destination shorthand as traces name it: `none` for an addressed message.
        public var shorthand: String {
            switch self {
            case .selfOnly: "self"
            case .allIncludingSelf: "all"
            case .allExcludingSelf: "all-but-self"
            case .physical, .logical, .extendedPhysical, .extendedLogical: "none"
            }
        }
    }

    public var mode: DeliveryMode
    public var destination: Destination
    public var vector: UInt8
    /// Level-triggered (the I/O APIC then waits for the EOI before delivering again).
    public var levelTriggered: Bool
    /// An INIT with the level bit clear and level trigger: "INIT level de-assert", which
    /// only resynchronises arbitration IDs (SDM Vol. 3A, 11.6.1).
    public var assert: Bool
    /// The local APIC ID of the sender, for shorthands and traces (`nil` from an I/O APIC).
    public var source: UInt8?

    public init(mode: DeliveryMode, destination: Destination, vector: UInt8, levelTriggered: Bool = false,
                assert: Bool = true, source: UInt8? = nil) {
        self.mode = mode
        self.destination = destination
        self.vector = vector
        self.levelTriggered = levelTriggered
        self.assert = assert
        self.source = source
    }

    public var description: String {
        "\(mode.name) vector 0x\(String(vector, radix: 16)) to \(destination)" + (levelTriggered ? " level" : "")
    }
}
