/// A piece of ACPI Machine Language that writes its own byte encoding (ACPI 6.5 §20, "ACPI
/// Machine Language (AML) Specification").
public protocol AMLEncodable {
    /// Appends this object's AML encoding to `bytes`.
    func encode(into bytes: inout [UInt8])
}

extension AMLEncodable {
    /// This object's AML encoding.
    public var amlBytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }
}

extension Array: AMLEncodable where Element: AMLEncodable {
    /// Each element's encoding, in order (a `TermList`, ACPI 6.5 §20.2.5).
    public func encode(into bytes: inout [UInt8]) {
        for element in self { element.encode(into: &bytes) }
    }
}
