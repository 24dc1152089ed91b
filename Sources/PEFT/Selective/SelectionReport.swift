import Foundation

/// How many entries a ``ParameterSelection`` chose in each layer of the model, printable as a
/// table.
///
/// A layer is the path up to and including its layer index (`transformer.h.3`), found by the rule
/// of ``ParameterSelection/layers(_:in:layersPattern:)``; a parameter outside the numbered layers
/// counts under its top-level module (`transformer`, `lm_head`).
///
/// ```text
/// layer              selected       total  selected%
/// transformer             108         800    13.5000
/// transformer.h.0         199       3,280     6.0671
/// transformer.h.1          61       3,280     1.8598
/// total                   368       7,360     5.0000
/// ```
public struct SelectionReport: CustomStringConvertible, Hashable, Sendable {
    /// One line of the table.
    public struct Row: Hashable, Sendable {
        /// The layer (`transformer.h.3`) or top-level module (`lm_head`).
        public let layer: String
        /// The number of selected entries in it.
        public let selectedCount: Int
        /// The number of parameter elements in it.
        public let totalCount: Int
    }

    /// One row per layer or top-level module, in the order they first appear in the model.
    public let rows: [Row]

    /// The number of selected entries over the whole model.
    public var selectedCount: Int { rows.reduce(0) { $0 + $1.selectedCount } }

    /// The number of parameter elements of the whole model.
    public var totalCount: Int { rows.reduce(0) { $0 + $1.totalCount } }

    /// The selected share of the model's elements, in `[0, 1]`.
    public var fraction: Double {
        totalCount == 0 ? 0 : Double(selectedCount) / Double(totalCount)
    }

    /// The table: one row per layer, then the total, with grouped counts and percentages.
    public var description: String {
        let lines = rows.map { ($0.layer, $0.selectedCount, $0.totalCount) }
        let all = lines + [("total", selectedCount, totalCount)]
        let width = max(5, all.map(\.0.count).max() ?? 0)
        func line(_ name: String, _ selected: String, _ total: String, _ percent: String) -> String
        {
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + [(selected, 10), (total, 12), (percent, 11)].map { text, length in
                    String(repeating: " ", count: max(0, length - text.count)) + text
                }.joined()
        }
        var table = [line("layer", "selected", "total", "selected%")]
        for (name, selected, total) in all {
            let percent = total == 0 ? 0 : 100 * Double(selected) / Double(total)
            table.append(
                line(name, grouped(selected), grouped(total), String(format: "%.4f", percent)))
        }
        return table.joined(separator: "\n")
    }
}

extension ParameterSelection {
    /// The number of selected entries per layer, as a printable table.
    public var report: SelectionReport {
        var order: [String] = []
        var totals: [String: (selected: Int, total: Int)] = [:]
        let selected = Dictionary(
            uniqueKeysWithValues: parameters.map { ($0.path, $0.selectedCount) })
        for extent in layout {
            let layer = Self.layerGroup(of: extent.path)
            if totals[layer] == nil { order.append(layer) }
            totals[layer, default: (0, 0)].selected += selected[extent.path] ?? 0
            totals[layer, default: (0, 0)].total += extent.count
        }
        return SelectionReport(
            rows: order.map {
                SelectionReport.Row(
                    layer: $0, selectedCount: totals[$0]!.selected, totalCount: totals[$0]!.total)
            })
    }

    /// The path up to and including the layer index (`transformer.h.3`), or the first segment.
    static func layerGroup(of path: String) -> String {
        let segments = path.split(separator: ".", omittingEmptySubsequences: false)
        // The shortest prefix that already holds the layer index is the layer; the trailing dot
        // gives the index the following segment the rule asks for.
        for length in segments.indices.dropFirst() {
            let prefix = segments[...length].joined(separator: ".")
            if layerIndex(in: prefix + ".", layersPattern: nil) != nil { return prefix }
        }
        return segments.count > 1 ? String(segments[0]) : "(model)"
    }
}

/// `1234567` as `1,234,567`, as PEFT's summary line groups counts.
private func grouped(_ number: Int) -> String {
    let digits = String(number)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}
