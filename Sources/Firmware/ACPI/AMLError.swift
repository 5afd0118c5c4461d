/// Why a piece of AML could not be made from the text it was given.
public enum AMLError: Error, Equatable, Sendable {
    /// Not a name segment: one to four characters, the first `A`–`Z` or `_`, the others
    /// `A`–`Z`, `0`–`9` or `_` (ACPI 6.5 §20.2.2, `NameSeg`).
    case invalidNameSegment(String)
    /// Not a name path: `\` or any number of `^`, then segments separated by `.` (ACPI 6.5
    /// §20.2.2, `NameString`), at most 255 segments.
    case invalidNameString(String)
    /// Not a compressed EISA ID: three letters `A`–`Z` then four hexadecimal digits, such as
    /// `PNP0A03` (ACPI 6.5 §19.6.35, `EISAID`).
    case invalidEISAID(String)
}
