/// A method's local variable `Local0`–`Local7` (ACPI 6.5 §20.2.6.2, `LocalObj`).
public enum AMLLocal: UInt8, CaseIterable, Hashable, Sendable {
    case local0, local1, local2, local3, local4, local5, local6, local7
}

/// A method's argument `Arg0`–`Arg6` (ACPI 6.5 §20.2.6.1, `ArgObj`).
public enum AMLArgument: UInt8, CaseIterable, Hashable, Sendable {
    case arg0, arg1, arg2, arg3, arg4, arg5, arg6
}

/// Where an AML operator stores a result (ACPI 6.5 §20.2.2, `SuperName`): a local, an argument,
/// or a named object such as a field unit.
public enum AMLSuperName: Hashable, Sendable, AMLEncodable {
    case local(AMLLocal)
    case argument(AMLArgument)
    case name(AMLNameString)

    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .local(let local): bytes.append(AMLOpcode.local0 + local.rawValue)
        case .argument(let argument): bytes.append(AMLOpcode.argument0 + argument.rawValue)
        case .name(let name): name.encode(into: &bytes)
        }
    }
}

/// An AML expression that evaluates to a value (ACPI 6.5 §20.2.5, `TermArg`): a constant, a
/// local, an argument, a named object, or an operator on other expressions. The arithmetic
/// operators also store their result in a target when one is given (`Target`; `nil` encodes
/// `NullName`, which discards it).
public indirect enum AMLExpression: Hashable, Sendable, AMLEncodable, ExpressibleByIntegerLiteral {
    case data(AMLData)
    case local(AMLLocal)
    case argument(AMLArgument)
    /// The value of a named object; a method named here must take no arguments.
    case name(AMLNameString)
    /// `Add (a, b, target)`: `AddOp` (ACPI 6.5 §20.2.5.4, `DefAdd`).
    case add(AMLExpression, AMLExpression, into: AMLSuperName? = nil)
    /// `And (a, b, target)`: bitwise and, `AndOp` (`DefAnd`).
    case and(AMLExpression, AMLExpression, into: AMLSuperName? = nil)
    /// `Or (a, b, target)`: bitwise or, `OrOp` (`DefOr`).
    case or(AMLExpression, AMLExpression, into: AMLSuperName? = nil)
    /// `ShiftLeft (value, count, target)`: `ShiftLeftOp` (`DefShiftLeft`).
    case shiftLeft(AMLExpression, by: AMLExpression, into: AMLSuperName? = nil)
    /// `ShiftRight (value, count, target)`: `ShiftRightOp` (`DefShiftRight`).
    case shiftRight(AMLExpression, by: AMLExpression, into: AMLSuperName? = nil)
    /// `LEqual (a, b)`: `LEqualOp` (`DefLEqual`).
    case logicalEqual(AMLExpression, AMLExpression)
    /// `LAnd (a, b)`: `LandOp` (`DefLAnd`).
    case logicalAnd(AMLExpression, AMLExpression)
    /// `LOr (a, b)`: `LorOp` (`DefLOr`).
    case logicalOr(AMLExpression, AMLExpression)
    /// `LNot (a)`: `LnotOp` (`DefLNot`).
    case logicalNot(AMLExpression)

    public init(integerLiteral value: UInt64) { self = .data(.integer(value)) }

    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .data(let data): data.encode(into: &bytes)
        case .local(let local): AMLSuperName.local(local).encode(into: &bytes)
        case .argument(let argument): AMLSuperName.argument(argument).encode(into: &bytes)
        case .name(let name): name.encode(into: &bytes)
        case .add(let a, let b, let target): AMLExpression.encode(AMLOpcode.add, [a, b], target: target, into: &bytes)
        case .and(let a, let b, let target): AMLExpression.encode(AMLOpcode.and, [a, b], target: target, into: &bytes)
        case .or(let a, let b, let target): AMLExpression.encode(AMLOpcode.or, [a, b], target: target, into: &bytes)
        case .shiftLeft(let a, let b, let target):
            AMLExpression.encode(AMLOpcode.shiftLeft, [a, b], target: target, into: &bytes)
        case .shiftRight(let a, let b, let target):
            AMLExpression.encode(AMLOpcode.shiftRight, [a, b], target: target, into: &bytes)
        case .logicalEqual(let a, let b): AMLExpression.encode(AMLOpcode.logicalEqual, [a, b], into: &bytes)
        case .logicalAnd(let a, let b): AMLExpression.encode(AMLOpcode.logicalAnd, [a, b], into: &bytes)
        case .logicalOr(let a, let b): AMLExpression.encode(AMLOpcode.logicalOr, [a, b], into: &bytes)
        case .logicalNot(let a): AMLExpression.encode(AMLOpcode.logicalNot, [a], into: &bytes)
        }
    }

    /// An operator's opcode and its operands.
    private static func encode(_ opcode: UInt8, _ operands: [AMLExpression], into bytes: inout [UInt8]) {
        bytes.append(opcode)
        operands.encode(into: &bytes)
    }

    /// An arithmetic operator's opcode, its operands and its target (`NullName` when `nil`).
    private static func encode(_ opcode: UInt8, _ operands: [AMLExpression], target: AMLSuperName?,
                               into bytes: inout [UInt8]) {
        encode(opcode, operands, into: &bytes)
        if let target { target.encode(into: &bytes) } else { bytes.append(AMLOpcode.zero) }
    }
}
