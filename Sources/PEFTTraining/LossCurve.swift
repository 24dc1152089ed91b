import Foundation

/// Loss values by step, drawn as an SVG line chart with axes: training loss and, when recorded,
/// evaluation loss.
///
/// ```swift
/// var curve = LossCurve(title: "LoRA on yell")
/// curve.recordTraining(step: 1, loss: 2.5)
/// curve.recordEvaluation(step: 1, loss: 2.4)
/// try curve.write(to: folder.appendingPathComponent("loss_curve.svg"))
/// ```
public struct LossCurve: Sendable {
    /// The chart's title.
    public var title: String
    /// Training loss by step, in the order recorded.
    public private(set) var training: [(step: Int, loss: Float)] = []
    /// Evaluation loss by step, in the order recorded.
    public private(set) var evaluation: [(step: Int, loss: Float)] = []

    /// An empty chart.
    public init(title: String) {
        self.title = title
    }

    /// Adds a training loss; non-finite values are left out of the chart.
    public mutating func recordTraining(step: Int, loss: Float) {
        if loss.isFinite { training.append((step, loss)) }
    }

    /// Adds an evaluation loss; non-finite values are left out of the chart.
    public mutating func recordEvaluation(step: Int, loss: Float) {
        if loss.isFinite { evaluation.append((step, loss)) }
    }

    /// The chart as a standalone SVG document of `width` × `height` pixels.
    public func svg(width: Int = 640, height: Int = 360) -> String {
        let (left, right, top, bottom) = (60.0, 20.0, 36.0, 44.0)
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        let all = training + evaluation
        let steps = (all.map(\.step).min() ?? 0, max(all.map(\.step).max() ?? 1, 1))
        let highest = Double(all.map(\.loss).max() ?? 1)
        let yMaximum = highest > 0 ? highest * 1.05 : 1
        func x(_ step: Int) -> Double {
            let span = Double(max(steps.1 - steps.0, 1))
            return left + plotWidth * Double(step - steps.0) / span
        }
        func y(_ loss: Float) -> Double { top + plotHeight * (1 - Double(loss) / yMaximum) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        func polyline(_ points: [(step: Int, loss: Float)], color: String) -> String {
            let coordinates = points.map { "\(number(x($0.step))),\(number(y($0.loss)))" }
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" "
                + "points=\"\(coordinates.joined(separator: " "))\"/>"
        }
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
                + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"11\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(number(left))\" y=\"20\" font-size=\"13\">\(Self.escaped(title))</text>",
            "<line x1=\"\(number(left))\" y1=\"\(number(top + plotHeight))\" "
                + "x2=\"\(number(left + plotWidth))\" y2=\"\(number(top + plotHeight))\" stroke=\"black\"/>",
            "<line x1=\"\(number(left))\" y1=\"\(number(top))\" x2=\"\(number(left))\" "
                + "y2=\"\(number(top + plotHeight))\" stroke=\"black\"/>",
        ]
        for tick in 0...4 {
            let loss = Float(yMaximum * Double(tick) / 4)
            lines.append(
                "<text x=\"\(number(left - 6))\" y=\"\(number(y(loss) + 4))\" text-anchor=\"end\">"
                    + "\(String(format: "%.2f", loss))</text>")
            let step = steps.0 + (steps.1 - steps.0) * tick / 4
            lines.append(
                "<text x=\"\(number(x(step)))\" y=\"\(number(top + plotHeight + 16))\" "
                    + "text-anchor=\"middle\">\(step)</text>")
        }
        lines.append(
            "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(height - 8)\" "
                + "text-anchor=\"middle\">step</text>")
        if !training.isEmpty { lines.append(polyline(training, color: "#1f77b4")) }
        if !evaluation.isEmpty { lines.append(polyline(evaluation, color: "#d62728")) }
        let legendX = number(left + plotWidth - 150)
        lines.append(
            "<text x=\"\(legendX)\" y=\"\(number(top + 12))\" fill=\"#1f77b4\">training loss</text>"
        )
        if !evaluation.isEmpty {
            lines.append(
                "<text x=\"\(legendX)\" y=\"\(number(top + 26))\" fill=\"#d62728\">"
                    + "evaluation loss</text>")
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The file name the examples and `peft train` give the chart: `loss_curve.svg`.
    public static let fileName = "loss_curve.svg"

    /// Writes ``svg(width:height:)`` to `url`, atomically.
    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
            of: "<", with: "&lt;"
        )
        .replacingOccurrences(of: ">", with: "&gt;")
    }
}
