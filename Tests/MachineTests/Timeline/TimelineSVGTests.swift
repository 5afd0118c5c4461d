import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Machine
import Testing

/// The SVG of the multiprocessor reboot, read back as XML: the lanes, the arrows between
/// them, the reset story's markers and labels.
@Suite struct TimelineSVGTests {
    /// Every element of an XML document: its name, attributes and the text directly inside it.
    final class Elements: NSObject, XMLParserDelegate {
        struct Element {
            let name: String
            let attributes: [String: String]
            var text = ""
            var classes: Set<Substring> { Set((attributes["class"] ?? "").split(separator: " ")) }
        }

        private(set) var all: [Element] = []
        private var open: [Int] = []

        init(_ document: String) throws {
            super.init()
            let parser = XMLParser(data: Data(document.utf8))
            parser.delegate = self
            try #require(parser.parse(), "not XML: \(String(describing: parser.parserError))")
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String]) {
            open.append(all.count)
            all.append(Element(name: name, attributes: attributes))
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let index = open.last { all[index].text += string }
        }

        func withClass(_ name: Substring) -> [Element] { all.filter { $0.classes.contains(name) } }
    }

    static let svg = TimelineSVG(TimelineTests.timeline).render()

    @Test func itIsXMLWithALanePerProcessor() throws {
        let elements = try Elements(Self.svg)
        #expect(elements.all.first?.name == "svg")
        let lanes = elements.withClass("lane").map { $0.attributes["data-lane"] ?? "" }
        #expect(lanes == ["board", "cpu0", "cpu1", "cpu2", "cpu3"])
        #expect(elements.withClass("lane-name").map(\.text) == ["board", "CPU 0", "CPU 1", "CPU 2", "CPU 3"])
    }

    @Test func ipiArrowsRunFromTheBSPsLaneToTheOthers() throws {
        let arrows = try Elements(Self.svg).withClass("arrow")
        for kind in ["arrow-init", "arrow-startup", "arrow-nmi"] {
            #expect(arrows.contains { $0.classes.contains(Substring(kind)) && $0.attributes["data-from"] == "cpu0" && $0.attributes["data-to"] == "cpu1" },
                    "\(kind) from cpu0 to cpu1")
        }
        // Each arrow starts in its sender's band and ends in its target's, further down.
        for arrow in arrows where arrow.attributes["data-from"] == "cpu0" && arrow.attributes["data-to"] == "cpu1" {
            let y1 = try #require(Double(arrow.attributes["y1"] ?? ""))
            let y2 = try #require(Double(arrow.attributes["y2"] ?? ""))
            #expect(y2 > y1)
        }
        #expect(arrows.filter { $0.classes.contains("arrow-answer") }.map { $0.attributes["data-from"] } == ["cpu1", "cpu2", "cpu3"])
        #expect(arrows.contains { $0.classes.contains("ignored") }, "the start-up IPI no CPU took is drawn as such")
    }

    @Test func theResetStoryIsMarkedAndLabelled() throws {
        let elements = try Elements(Self.svg)
        let resetTime = try #require(TimelineTests.resetTime).description
        let requests = elements.withClass("marker-reset-request")
        #expect(requests.map { $0.attributes["data-lane"] } == ["cpu1", "cpu2", "cpu3"])
        #expect(requests.allSatisfy { $0.attributes["data-label"] == "reset request: triple-fault" })
        let labels = elements.withClass("label").map(\.text)
        #expect(labels.contains("reset request: triple-fault"))
        #expect(labels.contains("triple fault: #SS → #DF → #TS"))
        #expect(labels.contains("board: INIT reset (triple-fault)"))
        let answer = try #require(elements.withClass("marker-board-answer").first)
        #expect(answer.attributes["data-time"] == resetTime && answer.attributes["data-lane"] == "board")
        // Each processor's restart at the board's answer: the BSP at the reset vector, the APs waiting.
        let restarts = elements.all.filter {
            ($0.classes.contains("marker-start") || $0.classes.contains("marker-wait-for-sipi")) && $0.attributes["data-time"] == resetTime
        }
        #expect(restarts.map { $0.attributes["data-lane"] } == ["cpu0", "cpu1", "cpu2", "cpu3"])
        #expect(restarts.first?.attributes["data-label"] == "restart at F000:FFF0")
        // Shutdown bands on the APs, halted hatching on the BSP.
        #expect(elements.withClass("band-shutdown").map { $0.attributes["data-lane"] } == ["cpu1", "cpu2", "cpu3"])
        #expect(elements.withClass("span-halted").contains { $0.attributes["data-lane"] == "cpu0" })
    }

    @Test func theSameTimelineGivesTheSameBytes() {
        #expect(TimelineSVG(TimelineTests.timeline).render() == Self.svg)
    }

    @Test func axisLabelsShowVirtualTime() throws {
        let ticks = try Elements(Self.svg).withClass("tick")
        #expect(ticks.first?.text == "0 ns")
        for tick in ticks {
            let time = try #require(UInt64(tick.attributes["data-time"] ?? ""))
            #expect([3, 6, 9].map { TimelineScale.text(for: time, decimals: $0) }.contains(tick.text), "\(tick.text) at \(time)")
        }
        let texts = ticks.map(\.text)
        #expect(zip(texts, texts.dropFirst()).allSatisfy { $0 != $1 }, "neighbouring ticks differ: \(texts)")
    }
}

/// The compressed axis: exact at event times, monotonic, logarithmic in the gaps.
@Suite struct TimelineScaleTests {
    @Test func gapsGrowByAFixedWidthPerDecade() {
        let scale = TimelineScale(times: [0, 1, 1_001, 1_000_001, 1_500_000_001], maximumWidth: 1e9)
        #expect(scale.position(of: 0) == 0)
        #expect(scale.position(of: 1) == TimelineScale.width(ofGap: 1))
        let decade = TimelineScale.width(ofGap: 10_000_000) - TimelineScale.width(ofGap: 1_000_000)
        #expect(abs(decade - TimelineScale.pixelsPerDecade) < 0.1)
        // A 1.5 s wait takes far less room than its linear share, but more than a 1 ms one.
        #expect(TimelineScale.width(ofGap: 1_500_000_000) < 12 * TimelineScale.width(ofGap: 1_000))
        #expect(TimelineScale.width(ofGap: 1_500_000_000) > TimelineScale.width(ofGap: 1_000_000))
        // Between two times, time runs linearly.
        let middle = scale.position(of: 501)
        #expect(abs(middle - (scale.position(of: 1) + scale.position(of: 1_001)) / 2) < 1e-9)
        #expect(scale.gaps(atLeast: 999_000).map(\.start) == [1_001, 1_000_001])
    }

    @Test func aLongPictureIsSqueezedToItsMaximumWidth() {
        let times = (0..<10_000).map { UInt64($0) * 1_000 }
        let scale = TimelineScale(times: times, maximumWidth: 5_000)
        #expect(abs(scale.width - 5_000) < 1e-6)
        #expect(zip(scale.positions, scale.positions.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func timesAreWrittenInTheirUnit() {
        #expect(TimelineScale.text(for: 42) == "42 ns")
        #expect(TimelineScale.text(for: 836_125) == "836.125 µs")
        #expect(TimelineScale.text(for: 10_000) == "10 µs")
        #expect(TimelineScale.text(for: 12_222_000) == "12.222 ms")
        #expect(TimelineScale.text(for: 1_502_000_000) == "1.502 s")
        #expect(TimelineScale.text(for: 1_569_518_123, decimals: 6) == "1.569518 s")
        #expect(TimelineScale.text(for: 1_569_518_123, decimals: 9) == "1.569518123 s")
        #expect(TimelineScale.text(for: 836_125, decimals: 9) == "836.125 µs")
    }
}
