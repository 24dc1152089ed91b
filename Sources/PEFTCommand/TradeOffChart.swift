import Foundation

/// The trade-off report as a picture: what a reader chooses a method by, each axis labelled with its
/// unit and ticks.
///
/// The top panel plots exact match against trainable parameters on a log axis (the efficiency
/// frontier); below it, one horizontal bar chart per cost: peak memory, seconds per training step,
/// adapter size and generation speed. Method names stand on the bars' axis, so none overlaps another.
struct TradeOffChart {
    /// One method's figures; `nil` where the run reported nothing.
    struct Point {
        let method: String
        let trainableParameters: Double
        let exactMatch: Double?
        let peakMiB: Double?
        let secondsPerStep: Double?
        var millisecondsPerStep: Double? { secondsPerStep.map { $0 * 1000 } }
        let adapterKiB: Double?
        let tokensPerSecond: Double?
    }

    let points: [Point]

    init(rows: [[String: Any]]) {
        func number(_ row: [String: Any], _ key: String) -> Double? {
            (row[key] as? NSNumber)?.doubleValue
        }
        points = rows.map { row in
            Point(
                method: row["method"] as? String ?? "?",
                trainableParameters: number(row, "trainable_parameters") ?? 0,
                exactMatch: number(row, "exact_match").map { $0 * 100 },
                peakMiB: number(row, "peak_resident_bytes").map { $0 / 1_048_576 },
                secondsPerStep: number(row, "seconds_per_step"),
                adapterKiB: number(row, "adapter_bytes").map { $0 / 1024 },
                tokensPerSecond: number(row, "tokens_per_second"))
        }
    }

    static let width = 960
    private static let colors = [
        "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D",
        "#BAB0AC", "#EECA3B", "#17BECF", "#8C564B", "#393B79", "#637939", "#AD494A", "#7B4173",
    ]

    func color(_ index: Int) -> String { Self.colors[index % Self.colors.count] }

    /// The whole chart as an SVG document.
    var svg: String {
        var body: [String] = []
        let scatterHeight = 400
        body += scatter(x: 0, y: 0, width: Self.width, height: scatterHeight)
        let barHeight = 84 + points.count * 20
        let half = Self.width / 2
        let panels: [(String, String, KeyPath<Point, Double?>)] = [
            ("Peak memory while training", "MiB (peak RSS)", \.peakMiB),
            ("Time per training step", "milliseconds", \.millisecondsPerStep),
            ("Adapter file size", "KiB", \.adapterKiB),
            ("Generation speed (greedy, unmerged)", "tokens / second", \.tokensPerSecond),
        ]
        for (index, panel) in panels.enumerated() {
            body += bars(
                title: panel.0, unit: panel.1, values: points.map { $0[keyPath: panel.2] },
                x: (index % 2) * half, y: scatterHeight + (index / 2) * barHeight, width: half,
                height: barHeight)
        }
        let height = scatterHeight + 2 * barHeight
        return
            ([
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.width)\" height=\"\(height)\" "
                    + "viewBox=\"0 0 \(Self.width) \(height)\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">",
                "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            ] + body + ["</svg>"]).joined(separator: "\n")
    }

    /// Exact match (%) against trainable parameters (log10), one labelled dot per method.
    private func scatter(x: Int, y: Int, width: Int, height: Int) -> [String] {
        let (left, right, top, bottom) = (x + 80, x + width - 170, y + 40, y + height - 50)
        var parts = [
            text(
                "Exact match against trainable parameters", x: left, y: y + 22, size: 15,
                weight: "bold")
        ]
        let counts = points.map { max($0.trainableParameters, 1) }
        let lowExponent = floor(log10(counts.min() ?? 1))
        let highExponent = max(ceil(log10(counts.max() ?? 10)), lowExponent + 1)
        func px(_ count: Double) -> Double {
            Double(left)
                + (log10(max(count, 1)) - lowExponent) / (highExponent - lowExponent)
                * Double(right - left)
        }
        func py(_ percent: Double) -> Double {
            Double(bottom) - percent / 100 * Double(bottom - top)
        }
        parts.append(axisFrame(left: left, right: right, top: top, bottom: bottom))
        for exponent in stride(from: lowExponent, through: highExponent, by: 1) {
            let tick = px(pow(10, exponent))
            parts.append(line(tick, Double(top), tick, Double(bottom), color: "#e6e6e6"))
            parts.append(
                text(
                    Self.powerOfTen(Int(exponent)), x: Int(tick), y: bottom + 18, anchor: "middle"))
        }
        for percent in stride(from: 0.0, through: 100, by: 20) {
            parts.append(
                line(Double(left), py(percent), Double(right), py(percent), color: "#e6e6e6"))
            parts.append(
                text("\(Int(percent))%", x: left - 8, y: Int(py(percent)) + 4, anchor: "end"))
        }
        parts.append(
            text(
                "trainable parameters (log scale; \"none\" trains 0, drawn at 1)",
                x: (left + right) / 2, y: bottom + 38, anchor: "middle"))
        parts.append(
            "<text transform=\"translate(\(x + 22),\((top + bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">exact match on held-out examples</text>"
        )
        // Labels go above their dots, then further up while they would overlap an earlier one.
        var placed: [(x: Double, y: Double)] = []
        for (index, point) in points.enumerated() {
            guard let accuracy = point.exactMatch else { continue }
            let (cx, cy) = (px(point.trainableParameters), py(accuracy))
            parts.append(
                "<circle cx=\"\(Self.format(cx))\" cy=\"\(Self.format(cy))\" r=\"5\" fill=\"\(color(index))\" stroke=\"black\" stroke-width=\"0.5\"/>"
            )
            var labelY = cy - 8
            while placed.contains(where: { abs($0.x - cx) < 70 && abs($0.y - labelY) < 13 }) {
                labelY -= 13
            }
            placed.append((cx, labelY))
            parts.append(text(point.method, x: Int(cx) - 4, y: Int(labelY)))
        }
        // The legend repeats the numbers a dot cannot show.
        var legendY = top + 4
        parts.append(text("method: exact match", x: right + 16, y: legendY, weight: "bold"))
        for (index, point) in points.enumerated() {
            legendY += 16
            parts.append(
                "<rect x=\"\(right + 16)\" y=\"\(legendY - 9)\" width=\"10\" height=\"10\" fill=\"\(color(index))\"/>"
            )
            let accuracy = point.exactMatch.map { String(format: "%.0f%%", $0) } ?? "–"
            parts.append(text("\(point.method): \(accuracy)", x: right + 32, y: legendY))
        }
        return parts
    }

    /// A horizontal bar per method, on a linear axis from 0 with ticks in `unit`.
    private func bars(
        title: String, unit: String, values: [Double?], x: Int, y: Int, width: Int, height: Int
    ) -> [String] {
        let (left, right, top) = (x + 90, x + width - 60, y + 40)
        let bottom = top + points.count * 20
        var parts = [text(title, x: x + 10, y: y + 22, size: 14, weight: "bold")]
        let largest = values.compactMap { $0 }.max() ?? 1
        let step = Self.niceStep(largest / 4)
        let end = max(step, (largest / step).rounded(.up) * step)
        func px(_ value: Double) -> Double {
            Double(left) + value / end * Double(right - left)
        }
        for tick in stride(from: 0, through: end + step / 2, by: step) {
            parts.append(line(px(tick), Double(top), px(tick), Double(bottom), color: "#e6e6e6"))
            parts.append(
                text(Self.format(tick), x: Int(px(tick)), y: bottom + 16, anchor: "middle"))
        }
        parts.append(text(unit, x: (left + right) / 2, y: bottom + 32, anchor: "middle"))
        for (index, point) in points.enumerated() {
            let rowY = top + index * 20
            parts.append(text(point.method, x: left - 6, y: rowY + 14, anchor: "end"))
            guard let value = values[index] else {
                parts.append(text("–", x: left + 4, y: rowY + 14))
                continue
            }
            let barEnd = px(value)
            parts.append(
                "<rect x=\"\(left)\" y=\"\(rowY + 3)\" width=\"\(Self.format(max(barEnd - Double(left), 1)))\" height=\"14\" fill=\"\(color(index))\"/>"
            )
            parts.append(text(Self.format(value), x: Int(barEnd) + 4, y: rowY + 14, size: 11))
        }
        parts.append(line(Double(left), Double(top), Double(left), Double(bottom), color: "black"))
        return parts
    }

    private func axisFrame(left: Int, right: Int, top: Int, bottom: Int) -> String {
        "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" fill=\"none\" stroke=\"black\"/>"
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String)
        -> String
    {
        "<line x1=\"\(Self.format(x1))\" y1=\"\(Self.format(y1))\" x2=\"\(Self.format(x2))\" y2=\"\(Self.format(y2))\" stroke=\"\(color)\"/>"
    }

    private func text(
        _ content: String, x: Int, y: Int, anchor: String = "start", size: Int = 12,
        weight: String = "normal"
    ) -> String {
        let escaped = content.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        return
            "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\">\(escaped)</text>"
    }

    /// 1, 2 or 5 times a power of ten, at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0 else { return 1 }
        let power = pow(10, floor(log10(rough)))
        for multiple in [1.0, 2, 5, 10] where multiple * power >= rough { return multiple * power }
        return 10 * power
    }

    /// `10³`-style labels for the log axis.
    static func powerOfTen(_ exponent: Int) -> String {
        let superscripts: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let digits = String(abs(exponent)).map { superscripts[Int(String($0))!] }
        return "10" + (exponent < 0 ? "⁻" : "") + String(digits)
    }

    /// A number without trailing zeros: 120, 0.25, 3.5.
    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        var text = String(format: "%.\(decimals)f", value)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) {
            text.removeLast()
        }
        return text
    }
}
