@testable import Control
import Testing

@Suite struct GDBPacketFramerTests {
    @Test func packetsAcksAndInterrupts() {
        var framer = GDBPacketFramer()
        let pieces = framer.feed(Array("+$g#67".utf8) + [0x03] + Array("-$m40e,2#9".utf8))
        #expect(pieces == [.packet(Array("g".utf8)), .interrupt, .retransmit])
        #expect(framer.feed(Array("4".utf8)) == [.packet(Array("m40e,2".utf8))])
        #expect(framer.feed(Array("$g#00".utf8)) == [.corrupt])
    }

    @Test func escapesBothWays() {
        let framed = GDBPacketFramer.frame(Array("a#b}c$".utf8))
        #expect(String(decoding: framed, as: UTF8.self).hasPrefix("$a}\u{03}b}]c}\u{04}#"))
        var framer = GDBPacketFramer()
        #expect(framer.feed(framed) == [.packet(Array("a#b}c$".utf8))])
    }

    @Test func oversizePacketsAreDropped() {
        var framer = GDBPacketFramer()
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: GDBPacketFramer.maximumPacketSize + 1)
        #expect(framer.feed(GDBPacketFramer.frame(payload)) == [.corrupt])
        #expect(framer.feed(GDBPacketFramer.frame(Array("?".utf8))) == [.packet(Array("?".utf8))])
    }

    @Test func targetDescriptionsNameEveryRegisterInOrder() {
        #expect(GDBArchitecture.i386.registers.count == 16 + 16 + 8 + 1)
        #expect(GDBArchitecture.x86_64.registers.count == 24 + 16 + 16 + 1 + 2)
        #expect(GDBArchitecture.i386.targetDescription.contains("<architecture>i386</architecture>"))
        #expect(GDBArchitecture.x86_64.targetDescription.contains(#"<reg name="rip" bitsize="64" type="code_ptr" regnum="16"/>"#))
        #expect(GDBArchitecture.i386.targetDescription.contains(#"<reg name="st0" bitsize="80" type="i387_ext" regnum="16" group="float"/>"#))
        #expect(GDBArchitecture.x86_64.targetDescription.contains(
            "<feature name=\"org.gnu.gdb.i386.segments\">\n" + #"<reg name="fs_base" bitsize="64" type="int64" regnum="57"/>"#))
        #expect(!GDBArchitecture.i386.targetDescription.contains("fs_base"))
    }

    @Test func tagWordFromTheAbridgedOne() {
        var image = [UInt8](repeating: 0, count: 416)
        image[4] = 0b0000_0001            // physical register 0 in use, TOP = 0: ST(0)
        image[32 + 7] = 0x80              // ST(0) = 1.0: integer bit, exponent 3FFFh
        image[32 + 8] = 0xFF
        image[32 + 9] = 0x3F
        #expect(GDBArchitecture.fullTagWord(image) == 0xFFFC)
        image[32 + 7] = 0; image[32 + 8] = 0; image[32 + 9] = 0
        #expect(GDBArchitecture.fullTagWord(image) == 0xFFFD)
    }
}
