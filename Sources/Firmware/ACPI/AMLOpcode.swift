/// AML opcode and prefix bytes (ACPI 6.5 §20.3, "AML Byte Stream Byte Values"). Extended
/// opcodes are `extendedPrefix` followed by the byte named here.
enum AMLOpcode {
    static let zero: UInt8 = 0x00
    static let one: UInt8 = 0x01
    static let name: UInt8 = 0x08
    static let bytePrefix: UInt8 = 0x0A
    static let wordPrefix: UInt8 = 0x0B
    static let dwordPrefix: UInt8 = 0x0C
    static let stringPrefix: UInt8 = 0x0D
    static let qwordPrefix: UInt8 = 0x0E
    static let scope: UInt8 = 0x10
    static let buffer: UInt8 = 0x11
    static let package: UInt8 = 0x12
    static let method: UInt8 = 0x14
    static let dualNamePrefix: UInt8 = 0x2E
    static let multiNamePrefix: UInt8 = 0x2F
    static let extendedPrefix: UInt8 = 0x5B
    static let rootCharacter: UInt8 = 0x5C
    static let parentPrefixCharacter: UInt8 = 0x5E
    static let local0: UInt8 = 0x60
    static let argument0: UInt8 = 0x68
    static let store: UInt8 = 0x70
    static let add: UInt8 = 0x72
    static let shiftLeft: UInt8 = 0x79
    static let shiftRight: UInt8 = 0x7A
    static let and: UInt8 = 0x7B
    static let or: UInt8 = 0x7D
    static let notify: UInt8 = 0x86
    static let logicalAnd: UInt8 = 0x90
    static let logicalOr: UInt8 = 0x91
    static let logicalNot: UInt8 = 0x92
    static let logicalEqual: UInt8 = 0x93
    static let `if`: UInt8 = 0xA0
    static let `else`: UInt8 = 0xA1
    static let `return`: UInt8 = 0xA4
    static let ones: UInt8 = 0xFF

    // After `extendedPrefix`.
    static let operationRegion: UInt8 = 0x80
    static let field: UInt8 = 0x81
    static let device: UInt8 = 0x82
}
