/// QEMU's key names (QKeyCode, qapi/ui.json) and their PC scancodes (set 1, the 8042's
/// translated set): `send-key` types them on the board's keyboard.
enum QEMUKeyCodes {
    /// The set-1 make code of a key; values above 0xFF carry the E0 prefix in their high byte.
    static let makeCodes: [String: UInt16] = {
        var table: [String: UInt16] = [
            "esc": 0x01, "minus": 0x0C, "equal": 0x0D, "backspace": 0x0E, "tab": 0x0F,
            "bracket_left": 0x1A, "bracket_right": 0x1B, "ret": 0x1C, "ctrl": 0x1D,
            "semicolon": 0x27, "apostrophe": 0x28, "grave_accent": 0x29, "shift": 0x2A, "backslash": 0x2B,
            "comma": 0x33, "dot": 0x34, "slash": 0x35, "shift_r": 0x36, "kp_multiply": 0x37, "alt": 0x38,
            "spc": 0x39, "caps_lock": 0x3A, "num_lock": 0x45, "scroll_lock": 0x46,
            "kp_7": 0x47, "kp_8": 0x48, "kp_9": 0x49, "kp_subtract": 0x4A, "kp_4": 0x4B, "kp_5": 0x4C,
            "kp_6": 0x4D, "kp_add": 0x4E, "kp_1": 0x4F, "kp_2": 0x50, "kp_3": 0x51, "kp_0": 0x52,
            "kp_decimal": 0x53, "sysrq": 0x54, "less": 0x56, "f11": 0x57, "f12": 0x58,
            "kp_enter": 0xE01C, "ctrl_r": 0xE01D, "kp_divide": 0xE035, "alt_r": 0xE038,
            "home": 0xE047, "up": 0xE048, "pgup": 0xE049, "left": 0xE04B, "right": 0xE04D,
            "end": 0xE04F, "down": 0xE050, "pgdn": 0xE051, "insert": 0xE052, "delete": 0xE053,
            "meta_l": 0xE05B, "meta_r": 0xE05C, "menu": 0xE05D,
        ]
        for (offset, digit) in "1234567890".enumerated() { table[String(digit)] = UInt16(0x02 + offset) }
        for (row, start) in [("qwertyuiop", 0x10), ("asdfghjkl", 0x1E), ("zxcvbnm", 0x2C)] {
            for (offset, letter) in row.enumerated() { table[String(letter)] = UInt16(start + offset) }
        }
        for n in 1...10 { table["f\(n)"] = UInt16(0x3B + n - 1) }
        return table
    }()

    /// A key's make code from QEMU's "number" form: the scancode, with bit 7 for the E0 prefix.
    static func makeCode(number: Int) -> UInt16? {
        guard (1...0xFF).contains(number) else { return nil }
        return number & 0x80 != 0 ? 0xE000 | UInt16(number & 0x7F) : UInt16(number)
    }

    /// The bytes of a key going down or up (break = make with bit 7 set, the prefix kept).
    static func bytes(of makeCode: UInt16, released: Bool) -> [UInt8] {
        let code = UInt8(makeCode & 0x7F) | (released ? 0x80 : 0)
        return makeCode > 0xFF ? [0xE0, code] : [code]
    }
}
