import Hardware
import Testing

@Suite struct PostCodePortTests {
    let platform = FakePlatform()
    let post: PostCodePort

    init() {
        post = PostCodePort(platform: platform)
    }

    @Test func eachWriteIsAPostEvent() {
        post.writePort(0x80, size: 1, value: 0x12)
        post.writePort(0x80, size: 1, value: 0xAB)
        #expect(platform.events(named: "post") == [
            TraceEvent("post", [("value", .number(0x12))]),
            TraceEvent("post", [("value", .number(0xAB))]),
        ])
    }

    @Test func readsReturnTheLastCode() {
        #expect(post.readPort(0x80, size: 1) == 0x00)
        post.writePort(0x80, size: 1, value: 0x55)
        #expect(post.readPort(0x80, size: 1) == 0x55)
    }
}
