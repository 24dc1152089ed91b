/// A two-column Markdown table of a run's results, printed at the end of an example.
///
/// ```swift
/// var summary = SummaryTable(title: "LoRA, 300 steps")
/// summary.add("exact match after", "97.5% (195/200)")
/// print(summary.rendered)
/// ```
public struct SummaryTable: Sendable {
    /// A heading printed above the table.
    public var title: String
    /// The rows, in the order added.
    public private(set) var rows: [(name: String, value: String)] = []

    /// An empty table.
    public init(title: String) {
        self.title = title
    }

    /// Appends a row.
    public mutating func add(_ name: String, _ value: String) {
        rows.append((name, value))
    }

    /// The heading and the table in Markdown, columns padded to line up in a terminal.
    public var rendered: String {
        let nameWidth = max("metric".count, rows.map(\.name.count).max() ?? 0)
        let valueWidth = max("value".count, rows.map(\.value.count).max() ?? 0)
        func row(_ name: String, _ value: String) -> String {
            "| \(name.padding(nameWidth)) | \(value.padding(valueWidth)) |"
        }
        let rule =
            "|\(String(repeating: "-", count: nameWidth + 2))|"
            + "\(String(repeating: "-", count: valueWidth + 2))|"
        return ([title, "", row("metric", "value"), rule] + rows.map { row($0.name, $0.value) })
            .joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
