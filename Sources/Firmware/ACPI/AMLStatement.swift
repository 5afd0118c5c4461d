/// One term of an AML definition block or method body (ACPI 6.5 §20.2.5, `TermObj`): a named
/// object's declaration, a scope, or a statement a method runs.
public indirect enum AMLStatement: Hashable, Sendable, AMLEncodable {
    /// `Name (name, data)`: `NameOp`, the name, the data (ACPI 6.5 §20.2.5.1, `DefName`).
    case name(AMLNameString, AMLData)
    /// `Scope (name) { body }`: `ScopeOp`, `PkgLength`, the name, the body (`DefScope`).
    case scope(AMLNameString, [AMLStatement])
    /// `Device (name) { body }`: `ExtOpPrefix DeviceOp`, `PkgLength`, the name, the body
    /// (ACPI 6.5 §20.2.5.2, `DefDevice`).
    case device(AMLNameString, [AMLStatement])
    /// `Method (name, argumentCount, Serialized | NotSerialized) { body }`: `MethodOp`,
    /// `PkgLength`, the name, the flags (bits 2–0 the argument count 0–7, bit 3 serialized,
    /// sync level 0), the body (`DefMethod`).
    case method(AMLNameString, argumentCount: Int = 0, serialized: Bool = false, [AMLStatement])
    /// `OperationRegion (name, space, offset, length)`: `ExtOpPrefix OpRegionOp`, the name, the
    /// space byte, the offset and length (`DefOpRegion`).
    case operationRegion(AMLNameString, space: AMLRegionSpace, offset: AMLExpression, length: AMLExpression)
    /// `Field (region, access, lock, update) { units }`: `ExtOpPrefix FieldOp`, `PkgLength`, the
    /// region's name, the flags, the field list (`DefField`).
    case field(AMLNameString, AMLFieldFlags, [AMLFieldUnit])
    /// `Store (value, destination)`: `StoreOp` (ACPI 6.5 §20.2.5.4, `DefStore`).
    case store(AMLExpression, into: AMLSuperName)
    /// `If (predicate) { then } Else { otherwise }`: `IfOp`, `PkgLength`, the predicate, the
    /// body; then, when `otherwise` is given, `ElseOp`, `PkgLength`, its body (ACPI 6.5 §20.2.5.3,
    /// `DefIfElse`, `DefElse`).
    case `if`(AMLExpression, then: [AMLStatement], else: [AMLStatement]? = nil)
    /// `Return (value)`: `ReturnOp` (`DefReturn`).
    case `return`(AMLExpression)
    /// `Notify (object, value)`: `NotifyOp` (`DefNotify`).
    case notify(AMLSuperName, AMLExpression)
    /// An expression run for its effect, such as `And (Local0, 0x0F, Local0)`.
    case evaluate(AMLExpression)

    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .name(let name, let data):
            bytes.append(AMLOpcode.name)
            name.encode(into: &bytes)
            data.encode(into: &bytes)
        case .scope(let name, let body):
            bytes.appendPackage(opcode: [AMLOpcode.scope]) { name.encode(into: &$0); body.encode(into: &$0) }
        case .device(let name, let body):
            bytes.appendPackage(opcode: [AMLOpcode.extendedPrefix, AMLOpcode.device]) {
                name.encode(into: &$0)
                body.encode(into: &$0)
            }
        case .method(let name, let argumentCount, let serialized, let body):
            precondition((0...7).contains(argumentCount), "a method takes 0 to 7 arguments")
            bytes.appendPackage(opcode: [AMLOpcode.method]) {
                name.encode(into: &$0)
                $0.append(UInt8(argumentCount) | (serialized ? 0x08 : 0))
                body.encode(into: &$0)
            }
        case .operationRegion(let name, let space, let offset, let length):
            bytes.append(contentsOf: [AMLOpcode.extendedPrefix, AMLOpcode.operationRegion])
            name.encode(into: &bytes)
            bytes.append(space.rawValue)
            offset.encode(into: &bytes)
            length.encode(into: &bytes)
        case .field(let region, let flags, let units):
            bytes.appendPackage(opcode: [AMLOpcode.extendedPrefix, AMLOpcode.field]) {
                region.encode(into: &$0)
                $0.append(flags.byte)
                units.encode(into: &$0)
            }
        case .store(let value, let destination):
            bytes.append(AMLOpcode.store)
            value.encode(into: &bytes)
            destination.encode(into: &bytes)
        case .if(let predicate, let body, let otherwise):
            bytes.appendPackage(opcode: [AMLOpcode.if]) { predicate.encode(into: &$0); body.encode(into: &$0) }
            if let otherwise {
                bytes.appendPackage(opcode: [AMLOpcode.else]) { otherwise.encode(into: &$0) }
            }
        case .return(let value):
            bytes.append(AMLOpcode.return)
            value.encode(into: &bytes)
        case .notify(let object, let value):
            bytes.append(AMLOpcode.notify)
            object.encode(into: &bytes)
            value.encode(into: &bytes)
        case .evaluate(let expression):
            expression.encode(into: &bytes)
        }
    }
}
