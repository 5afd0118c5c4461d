/// One segment of an AML name (ACPI 6.5 §20.2.2, `NameSeg`): four characters, the first `A`–`Z`
/// or `_`, the others `A`–`Z`, `0`–`9` or `_`. A shorter name is padded with `_`, as ASL pads
/// it (ACPI 6.5 §19.2.2), so `"PCI"` is `PCI_`.
public struct AMLNameSegment: Hashable, Sendable, AMLEncodable, CustomStringConvertible,
                              ExpressibleByStringLiteral {
    /// The four ASCII characters.
    public let characters: [UInt8]

    /// The segment spelled `text` (one to four characters, padded with `_`).
    public init(parsing text: String) throws(AMLError) {
        let characters = Array(text.utf8)
        guard (1...4).contains(characters.count),
              AMLNameSegment.isLeadCharacter(characters[0]),
              characters.dropFirst().allSatisfy(AMLNameSegment.isNameCharacter)
        else { throw .invalidNameSegment(text) }
        self.characters = characters + Array(repeating: UInt8(ascii: "_"), count: 4 - characters.count)
    }

    /// The segment spelled by a literal in the program; an invalid literal is a programming
    /// error and traps.
    public init(stringLiteral text: String) {
        do { try self.init(parsing: text) } catch { preconditionFailure("\(error)") }
    }

    public func encode(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: characters)
    }

    public var description: String { String(decoding: characters, as: UTF8.self) }

    static func isLeadCharacter(_ character: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(character) || character == UInt8(ascii: "_")
    }

    static func isNameCharacter(_ character: UInt8) -> Bool {
        isLeadCharacter(character) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character)
    }
}

/// A path to an object in the ACPI namespace (ACPI 6.5 §20.2.2, `NameString`): from the root
/// (`\_SB.PCI0`), from some ancestor of the current scope (`^^LPCB`, one `^` per level up), or
/// relative to the current scope and found by searching up from it (`_S5`). It encodes as the
/// root or parent prefixes, then the segments: none as `NullName`, one as itself, two after
/// `DualNamePrefix`, more after `MultiNamePrefix` and their count.
public struct AMLNameString: Hashable, Sendable, AMLEncodable, CustomStringConvertible,
                             ExpressibleByStringLiteral {
    /// Where the path starts.
    public enum Anchor: Hashable, Sendable {
        /// The current scope, searching up from it for a single segment (ACPI 6.5 §5.3).
        case currentScope
        /// The namespace root (`\`).
        case root
        /// That many levels above the current scope (`^`, one per level).
        case parent(levels: Int)
    }

    public let anchor: Anchor
    public let segments: [AMLNameSegment]

    /// A path of `segments` from `anchor` (at most 255 segments; parent levels at least 1).
    public init(anchor: Anchor = .currentScope, segments: [AMLNameSegment]) {
        precondition(segments.count <= 255, "an AML name path holds at most 255 segments")
        if case .parent(let levels) = anchor { precondition(levels >= 1, "a parent prefix goes up at least one level") }
        self.anchor = anchor
        self.segments = segments
    }

    /// The path written in ASL: an optional `\` or `^`s, then segments separated by `.`.
    /// `\` alone is the root itself.
    public init(parsing text: String) throws(AMLError) {
        var rest = Substring(text)
        var anchor = Anchor.currentScope
        if rest.first == "\\" {
            anchor = .root
            rest = rest.dropFirst()
        } else {
            let levels = rest.prefix { $0 == "^" }.count
            if levels > 0 { anchor = .parent(levels: levels) }
            rest = rest.dropFirst(levels)
        }
        var segments: [AMLNameSegment] = []
        if !rest.isEmpty {
            for part in rest.split(separator: ".", omittingEmptySubsequences: false) {
                guard let segment = try? AMLNameSegment(parsing: String(part)) else { throw .invalidNameString(text) }
                segments.append(segment)
            }
        }
        guard segments.count <= 255, !(segments.isEmpty && anchor == .currentScope) else {
            throw .invalidNameString(text)
        }
        self.init(anchor: anchor, segments: segments)
    }

    /// The path written by a literal in the program; an invalid literal is a programming error
    /// and traps.
    public init(stringLiteral text: String) {
        do { try self.init(parsing: text) } catch { preconditionFailure("\(error)") }
    }

    public func encode(into bytes: inout [UInt8]) {
        switch anchor {
        case .currentScope: break
        case .root: bytes.append(AMLOpcode.rootCharacter)
        case .parent(let levels): bytes.append(contentsOf: repeatElement(AMLOpcode.parentPrefixCharacter, count: levels))
        }
        switch segments.count {
        case 0: bytes.append(AMLOpcode.zero)
        case 1: break
        case 2: bytes.append(AMLOpcode.dualNamePrefix)
        default: bytes.append(contentsOf: [AMLOpcode.multiNamePrefix, UInt8(segments.count)])
        }
        segments.encode(into: &bytes)
    }

    public var description: String {
        let prefix = switch anchor {
        case .currentScope: ""
        case .root: "\\"
        case .parent(let levels): String(repeating: "^", count: levels)
        }
        return prefix + segments.map(\.description).joined(separator: ".")
    }
}
