/// A timeline drawn as an SVG picture: the board's lane and one lane per CPU, top to bottom,
/// over the compressed time axis of `TimelineScale`. Each lane's background band is coloured
/// by what the CPU was doing (real, protected, paged or long mode; waiting for SIPI;
/// shutdown), halts are hatched over it, markers carry a label (and the whole event as a
/// tooltip), and arrows run between lanes. Elements carry `class` and `data-` attributes
/// (`data-lane`, `data-from`, `data-to`, `data-time`) so tools and tests can read the picture back.
public struct TimelineSVG: Sendable {
    public let timeline: Timeline
    public let scale: TimelineScale

    /// Lays `timeline` out on a scale at most `maximumWidth` pixels wide.
    public init(_ timeline: Timeline, maximumWidth: Double = 24_000) {
        self.timeline = timeline
        self.scale = TimelineScale(times: timeline.times, maximumWidth: maximumWidth)
    }

    // Layout, in pixels.
    private static let left = 80.0
    private static let top = 46.0
    private static let right = 340.0
    private static let laneHeight = 86.0
    /// Label rows above each lane's band.
    private static let labelRows = 3
    private static let rowHeight = 12.0
    private static let bandTop = 42.0
    private static let bandHeight = 26.0
    private static let characterWidth = 6.0
    private static let legendHeight = 58.0

    private var height: Double { Self.top + Double(timeline.lanes.count) * Self.laneHeight + Self.legendHeight }

    /// The whole document.
    public func render() -> String {
        var svg = SVGText()
        let width = Self.left + scale.width + Self.right
        svg.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": number(width), "height": number(height),
                         "viewBox": "0 0 \(number(width)) \(number(height))", "font-family": "sans-serif", "font-size": "10"])
        definitions(&svg)
        svg.element("rect", ["class": "background", "width": number(width), "height": number(height), "fill": "white"])
        axis(&svg)
        var labels: [PendingLabel] = []
        for lane in timeline.lanes { self.lane(lane, &svg, &labels) }
        arrows(&svg, &labels)
        place(labels, &svg)
        legend(&svg)
        svg.close("svg")
        return svg.text
    }

    // MARK: Geometry

    private func x(_ time: UInt64) -> Double { Self.left + scale.position(of: time) }

    private func laneIndex(_ lane: TimelineLane) -> Int { timeline.lanes.firstIndex(of: lane) ?? 0 }

    private func laneTop(_ lane: TimelineLane) -> Double { Self.top + Double(laneIndex(lane)) * Self.laneHeight }

    private func bandTop(_ lane: TimelineLane) -> Double { laneTop(lane) + Self.bandTop }

    private func bandMiddle(_ lane: TimelineLane) -> Double { bandTop(lane) + Self.bandHeight / 2 }

    // MARK: Parts

    private func definitions(_ svg: inout SVGText) {
        svg.open("defs")
        svg.open("pattern", ["id": "halted", "width": "6", "height": "6", "patternUnits": "userSpaceOnUse", "patternTransform": "rotate(45)"])
        svg.element("rect", ["width": "3", "height": "6", "fill": "#444", "fill-opacity": "0.45"])
        svg.close("pattern")
        for (name, colour) in Self.arrowColours {
            svg.open("marker", ["id": "head-\(name)", "viewBox": "0 0 8 8", "refX": "8", "refY": "4",
                                "markerWidth": "7", "markerHeight": "7", "orient": "auto"])
            svg.element("path", ["d": "M0,0 L8,4 L0,8 z", "fill": colour])
            svg.close("marker")
        }
        svg.close("defs")
    }

    private func axis(_ svg: inout SVGText) {
        let y = Self.top - 16
        svg.open("g", ["class": "axis"])
        svg.element("line", ["x1": number(Self.left), "y1": number(y), "x2": number(x(timeline.end)), "y2": number(y), "stroke": "#333"])
        var lastLabelEnd = -Double.infinity
        var lastLabel = ""
        for time in scale.times {
            let position = x(time)
            guard position >= lastLabelEnd + 8 else { continue }
            // As many digits as it takes to tell this tick from the one before.
            let text = stride(from: 3, through: 9, by: 3).lazy.map { TimelineScale.text(for: time, decimals: $0) }
                .first { $0 != lastLabel } ?? TimelineScale.text(for: time, decimals: 9)
            lastLabel = text
            svg.element("line", ["x1": number(position), "y1": number(y - 4), "x2": number(position), "y2": number(y + 4), "stroke": "#333"])
            svg.text(text, ["class": "tick", "x": number(position), "y": number(y - 7), "data-time": String(time)])
            lastLabelEnd = position + Double(text.count) * Self.characterWidth
        }
        // Long quiet stretches are shown much shorter than they were: say by how much.
        for gap in scale.gaps(atLeast: 10_000) {
            let (start, end) = (x(gap.start), x(gap.end))
            let text = "+" + TimelineScale.text(for: gap.end - gap.start)
            guard end - start >= Double(text.count) * Self.characterWidth + 4 else { continue }
            let middle = (start + end) / 2
            svg.text("≈", ["class": "break", "x": number(middle), "y": number(y + 4), "text-anchor": "middle", "font-size": "13"])
            svg.text(text, ["class": "gap", "x": number(middle), "y": number(y + 13), "text-anchor": "middle", "fill": "#777", "font-size": "8"])
        }
        svg.close("g")
    }

    private func lane(_ lane: TimelineLane, _ svg: inout SVGText, _ labels: inout [PendingLabel]) {
        let top = laneTop(lane)
        svg.open("g", ["class": "lane", "data-lane": lane.description])
        let name: String = switch lane {
        case .board: "board"
        case .cpu(let n): "CPU \(n)"
        }
        svg.element("line", ["x1": "0", "y1": number(top), "x2": number(x(timeline.end) + Self.right), "y2": number(top), "stroke": "#ddd"])
        svg.text(name, ["class": "lane-name", "x": "8", "y": number(bandMiddle(lane) + 4), "font-weight": "bold", "font-size": "12"])
        for span in timeline.spans where span.lane == lane && span.isBand {
            svg.open("rect", ["class": "band band-\(cssName(span.kind))", "data-lane": lane.description, "data-time": String(span.start),
                              "x": number(x(span.start)), "y": number(bandTop(lane)), "width": number(max(x(span.end) - x(span.start), 1)),
                              "height": number(Self.bandHeight), "fill": Self.bandColour(span.kind)])
            svg.title("\(span.detail), \(TimelineScale.text(for: span.start)) – \(TimelineScale.text(for: span.end))")
            svg.close("rect")
        }
        for span in timeline.spans where span.lane == lane && !span.isBand {
            overlay(span, &svg, &labels)
        }
        for marker in timeline.markers where marker.lane == lane {
            self.marker(marker, &svg, &labels)
        }
        svg.close("g")
    }

    private func overlay(_ span: TimelineSpan, _ svg: inout SVGText, _ labels: inout [PendingLabel]) {
        let start = x(span.start)
        let width = max(x(span.end) - start, 2)
        let band = bandTop(span.lane)
        let (y, height, fill): (Double, Double, String) = switch span.kind {
        case .halted: (band + Self.bandHeight / 2, Self.bandHeight / 2, "url(#halted)")
        case .firmware: (band + Self.bandHeight + 2, 5, "#a0785a")
        default: (band + Self.bandHeight + 9, 5, "#888")
        }
        svg.open("g", ["class": "span span-\(cssName(span.kind))", "data-lane": span.lane.description, "data-time": String(span.start)])
        svg.title("\(span.detail), \(TimelineScale.text(for: span.start)) – \(TimelineScale.text(for: span.end))")
        svg.element("rect", ["x": number(start), "y": number(y), "width": number(width), "height": number(height), "fill": fill])
        labels.append(PendingLabel(text: span.label, x: start, lane: span.lane, colour: "#555", rank: 3))
        svg.close("g")
    }

    private func marker(_ marker: TimelineMarker, _ svg: inout SVGText, _ labels: inout [PendingLabel]) {
        let position = x(marker.time)
        let band = bandTop(marker.lane)
        let colour = Self.markerColour(marker.kind)
        svg.open("g", ["class": "marker marker-\(marker.kind.rawValue)", "data-lane": marker.lane.description,
                       "data-time": String(marker.time), "data-label": marker.label])
        svg.title(marker.detail)
        svg.element("line", ["x1": number(position), "y1": number(band - 2), "x2": number(position), "y2": number(band + Self.bandHeight),
                             "stroke": colour, "stroke-width": "1.5"])
        let (cx, cy) = (position, band)
        let shape: String = switch marker.kind {
        case .resetRequest, .boardAnswer: "M\(number(cx)),\(number(cy - 5)) l5,5 l-5,5 l-5,-5 z"
        case .shutdown: "M\(number(cx - 4)),\(number(cy - 4)) l8,8 m0,-8 l-8,8"
        case .start, .waitForStartup, .powerOn: "M\(number(cx)),\(number(cy - 5)) l6,5 l-6,5 z"
        default: "M\(number(cx - 3)),\(number(cy)) a3,3 0 1,0 6,0 a3,3 0 1,0 -6,0"
        }
        svg.element("path", ["d": shape, "fill": colour, "stroke": colour, "stroke-width": "2"])
        labels.append(PendingLabel(text: marker.label, x: position, lane: marker.lane, colour: colour, rank: Self.labelRank(marker.kind)))
        svg.close("g")
        if marker.kind == .boardAnswer {
            // The board's answer reaches every CPU.
            svg.element("line", ["class": "answer-line", "x1": number(position), "y1": number(band),
                                 "x2": number(position), "y2": number(Self.top + Double(timeline.lanes.count) * Self.laneHeight),
                                 "stroke": colour, "stroke-dasharray": "4,3"])
        }
    }

    private func arrows(_ svg: inout SVGText, _ labels: inout [PendingLabel]) {
        svg.open("g", ["class": "arrows"])
        var labelled = Set<String>()
        for arrow in timeline.arrows {
            let (name, colour) = Self.arrowStyle(arrow.kind)
            let startX = x(arrow.time)
            // An interrupt arrives at once; the slant keeps arrows to several CPUs apart.
            let endX = arrow.kind == .answer ? x(arrow.arrival) : startX + 6
            var attributes = ["class": "arrow arrow-\(name)\(arrow.accepted ? "" : " ignored")",
                              "data-from": arrow.from.description, "data-to": arrow.to.description, "data-time": String(arrow.time),
                              "x1": number(startX), "y1": number(bandMiddle(arrow.from)), "x2": number(endX), "y2": number(bandMiddle(arrow.to)),
                              "stroke": colour, "stroke-width": "1.3", "marker-end": "url(#head-\(name))"]
            if arrow.kind == .answer { attributes["stroke-dasharray"] = "2,2" }
            if !arrow.accepted { attributes["stroke-dasharray"] = "5,3"; attributes["stroke-opacity"] = "0.6" }
            svg.open("line", attributes)
            svg.title(arrow.kind == .answer
                      ? "reset request from \(arrow.from) at \(TimelineScale.text(for: arrow.time)), answered by the board at \(TimelineScale.text(for: arrow.arrival))"
                      : "\(arrow.label) from \(arrow.from) to \(arrow.to) at \(TimelineScale.text(for: arrow.time))\(arrow.accepted ? "" : ", not taken")")
            svg.close("line")
            let key = "\(arrow.from) \(arrow.time) \(arrow.label)"
            if !arrow.label.isEmpty, labelled.insert(key).inserted {
                labels.append(PendingLabel(text: arrow.label, x: startX, lane: arrow.from, colour: colour, rank: 1))
            }
        }
        svg.close("g")
    }

    private func legend(_ svg: inout SVGText) {
        var position = Self.left
        let y = Self.top + Double(timeline.lanes.count) * Self.laneHeight + 20
        svg.open("g", ["class": "legend"])
        let bands: [TimelineSpan.Kind] = [.mode(.real), .mode(.protected), .mode(.paged), .mode(.long), .waitingForStartup, .shutdown]
        for kind in bands {
            svg.element("rect", ["x": number(position), "y": number(y - 9), "width": "14", "height": "10", "fill": Self.bandColour(kind)])
            let text = TimelineSpan(lane: .board, start: 0, end: 0, kind: kind).label
            svg.text(text, ["x": number(position + 18), "y": number(y)])
            position += 28 + Double(text.count) * Self.characterWidth
        }
        svg.element("rect", ["x": number(position), "y": number(y - 9), "width": "14", "height": "10", "fill": "url(#halted)"])
        svg.text("halted", ["x": number(position + 18), "y": number(y)])
        position += 70
        for (name, colour) in Self.arrowColours {
            svg.element("line", ["x1": number(position), "y1": number(y - 4), "x2": number(position + 18), "y2": number(y - 4),
                                 "stroke": colour, "marker-end": "url(#head-\(name))"])
            svg.text(name == "answer" ? "request → answer" : name, ["x": number(position + 22), "y": number(y)])
            position += 40 + Double(name.count + (name == "answer" ? 10 : 0)) * Self.characterWidth
        }
        svg.text("Time axis compressed: each gap between events is drawn \(Int(TimelineScale.minimumGap)) px + \(Int(TimelineScale.pixelsPerDecade)) px per tenfold of its length (≈ marks a gap shown much shorter than it was); hover for details.",
                 ["x": number(Self.left), "y": number(y + 20), "fill": "#555"])
        svg.close("g")
    }

    /// Draws the labels, the most important first: each in the first of its lane's rows with
    /// room at its place. A label with no room left is not drawn (its element's tooltip and
    /// `data-label` still have it).
    private func place(_ labels: [PendingLabel], _ svg: inout SVGText) {
        var rows = Array(repeating: LabelRow(), count: timeline.lanes.count * Self.labelRows)
        svg.open("g", ["class": "labels"])
        for label in labels.sorted(by: { ($0.rank, $0.x) < ($1.rank, $1.x) }) {
            let first = laneIndex(label.lane) * Self.labelRows
            let width = Double(label.text.count) * Self.characterWidth + 6
            guard let row = (first..<first + Self.labelRows).first(where: { rows[$0].take(label.x, width: width) }) else { continue }
            let y = laneTop(label.lane) + Double(row - first + 1) * Self.rowHeight
            svg.element("line", ["x1": number(label.x), "y1": number(y + 2), "x2": number(label.x), "y2": number(bandTop(label.lane) - 2),
                                 "stroke": label.colour, "stroke-opacity": "0.35"])
            svg.text(label.text, ["class": "label", "data-lane": label.lane.description, "x": number(label.x + 2), "y": number(y), "fill": label.colour])
        }
        svg.close("g")
    }

    /// Which labels win a crowded place: the reset story first, then IPIs, then other events,
    /// then halts, firmware and timer spans.
    private static func labelRank(_ kind: TimelineMarker.Kind) -> Int {
        switch kind {
        case .resetRequest, .shutdown, .boardAnswer, .start, .waitForStartup, .powerOn, .powerOff: 0
        case .exception, .taskSwitch, .interrupt, .other: 2
        }
    }

    // MARK: Style

    private static let arrowColours: [(String, String)] = [
        ("init", "#c0392b"), ("startup", "#1e8449"), ("nmi", "#7d3c98"), ("fixed", "#1f618d"), ("answer", "#555555"),
    ]

    private static func arrowStyle(_ kind: TimelineArrow.Kind) -> (String, String) {
        let name = switch kind {
        case .answer: "answer"
        case .interrupt(let mode): ["init", "startup", "nmi"].contains(mode) ? mode : "fixed"
        }
        return arrowColours.first { $0.0 == name }!
    }

    private static func bandColour(_ kind: TimelineSpan.Kind) -> String {
        switch kind {
        case .mode(.real): "#f5d491"
        case .mode(.protected): "#a9cce3"
        case .mode(.paged): "#a9dfbf"
        case .mode(.long): "#d2b4de"
        case .waitingForStartup: "#e5e7e9"
        case .shutdown: "#e6776f"
        default: "#f4f6f6"
        }
    }

    private static func markerColour(_ kind: TimelineMarker.Kind) -> String {
        switch kind {
        case .resetRequest, .shutdown: "#b03a2e"
        case .exception: "#ca6f1e"
        case .boardAnswer, .powerOff, .powerOn: "#17202a"
        case .start, .waitForStartup: "#196f3d"
        case .taskSwitch: "#2e4053"
        case .interrupt: "#7d3c98"
        case .other: "#626567"
        }
    }

    private func cssName(_ kind: TimelineSpan.Kind) -> String {
        switch kind {
        case .mode(let mode): mode.rawValue
        case .waitingForStartup: "waiting"
        case .shutdown: "shutdown"
        case .powered: "powered"
        case .halted: "halted"
        case .firmware: "firmware"
        case .timer: "timer"
        }
    }

    private func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// A label waiting for a place.
private struct PendingLabel {
    let text: String
    let x: Double
    let lane: TimelineLane
    let colour: String
    /// Lower places first.
    let rank: Int
}

/// The stretches of one label row that labels already take, sorted and apart.
private struct LabelRow {
    private var taken: [(start: Double, end: Double)] = []

    /// Takes `x ..< x + width` if nothing there is taken yet.
    mutating func take(_ x: Double, width: Double) -> Bool {
        var low = 0
        var high = taken.count
        while low < high {
            let middle = (low + high) / 2
            if taken[middle].start < x { low = middle + 1 } else { high = middle }
        }
        if low > 0 && taken[low - 1].end > x { return false }
        if low < taken.count && taken[low].start < x + width { return false }
        taken.insert((x, x + width), at: low)
        return true
    }
}

/// An SVG document built element by element, with XML escaping.
private struct SVGText {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    mutating func open(_ name: String, _ attributes: [String: String] = [:]) {
        line("<\(name)\(render(attributes))>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    mutating func element(_ name: String, _ attributes: [String: String]) {
        line("<\(name)\(render(attributes))/>")
    }

    mutating func text(_ content: String, _ attributes: [String: String]) {
        line("<text\(render(attributes))>\(escape(content))</text>")
    }

    mutating func title(_ content: String) {
        line("<title>\(escape(content))</title>")
    }

    private mutating func line(_ content: String) {
        text += String(repeating: " ", count: depth) + content + "\n"
    }

    /// Attributes in name order, so the same timeline gives the same bytes.
    private func render(_ attributes: [String: String]) -> String {
        attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
    }

    private func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            // XML 1.0 has no place for the other control characters (section 2.2).
            case _ where character.unicodeScalars.contains(where: { $0.value < 0x20 }): out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
