// Reading sequence-classification examples from JSON Lines files.
import Foundation

/// Labelled texts for sequence classification, read from JSON Lines `{"text": ..., "label": ...}`.
///
/// A label is either an integer class index (`0`, `1`, …; the classes are `0...max`) or a string;
/// string labels are mapped to the indices of their sorted set, so `"neg"` is 0 and `"pos"` is 1
/// whatever order the lines come in. One file uses one kind of label. Each example travels as a
/// ``TextExample`` whose prompt is the text and whose completion is the class index in decimal
/// (``TextExample/classIndex``), so the training loop's batching and held-out split apply unchanged.
public struct ClassificationDataset: Sendable {
    /// The examples, in file order.
    public var examples: [TextExample]
    /// The number of classes the head needs.
    public var labelCount: Int
    /// The sorted string labels, index by index, when the file names its classes; nil for indices.
    public var labelNames: [String]?

    /// Reads one example per non-blank line.
    ///
    /// - Throws: ``DatasetError`` naming the file and the 1-based line of a bad line, a missing or
    ///   mistyped `text` or `label`, a negative index, or a file that mixes indices and names.
    public static func load(
        jsonLines url: URL, textKey: String = "text", labelKey: String = "label"
    )
        throws -> ClassificationDataset
    {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.unreadableFile(path: url.path, reason: "not UTF-8")
        }
        var rows: [(text: String, label: Label, line: Int)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let number = index + 1
            func bad(_ reason: String) -> DatasetError {
                .malformedLine(file: url.path, line: number, reason: reason)
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) else {
                throw bad("not valid JSON")
            }
            guard let fields = object as? [String: Any] else {
                throw bad("a JSON value that is not an object")
            }
            guard let body = fields[textKey] as? String else {
                throw DatasetError.missingField(file: url.path, line: number, field: textKey)
            }
            guard fields[labelKey] != nil else {
                throw bad("missing the field \"\(labelKey)\"")
            }
            // JSONDecoder tells integers from booleans and fractions, which `Any` does not.
            struct Line: Decodable { let label: Label }
            let label: Label
            do {
                let wrapped = try JSONSerialization.data(withJSONObject: [
                    "label": fields[labelKey]!
                ])
                label = try JSONDecoder().decode(Line.self, from: wrapped).label
            } catch {
                throw bad("\"\(labelKey)\" must be an integer class index or a string")
            }
            if case .index(let value) = label, value < 0 {
                throw bad("label \(value) is out of range: class indices start at 0")
            }
            if let first = rows.first, first.label.isIndex != label.isIndex {
                throw bad(
                    "label \(label) is \(label.isIndex ? "an index" : "a name") but line "
                        + "\(first.line)'s is \(first.label.isIndex ? "an index" : "a name")")
            }
            rows.append((body, label, number))
        }
        guard let first = rows.first else { throw DatasetError.empty(file: url.path) }
        if first.label.isIndex {
            let indices = rows.map { row -> Int in
                if case .index(let value) = row.label { return value }
                return 0
            }
            return ClassificationDataset(
                examples: zip(rows, indices).map { TextExample(text: $0.text, classIndex: $1) },
                labelCount: indices.max()! + 1, labelNames: nil)
        }
        let names = rows.map { row -> String in
            if case .name(let value) = row.label { return value }
            return ""
        }
        let sorted = Array(Set(names)).sorted()
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        return ClassificationDataset(
            examples: zip(rows, names).map { TextExample(text: $0.text, classIndex: index[$1]!) },
            labelCount: sorted.count, labelNames: sorted)
    }

    /// A line's label as written.
    enum Label: Decodable, CustomStringConvertible {
        case index(Int)
        case name(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) {
                self = .index(value)
            } else {
                self = .name(try container.decode(String.self))
            }
        }

        var isIndex: Bool { if case .index = self { true } else { false } }

        var description: String {
            switch self {
            case .index(let value): "\(value)"
            case .name(let value): "\"\(value)\""
            }
        }
    }
}

extension TextExample {
    /// A classification example: the text as the prompt, the class index as the completion.
    public init(text: String, classIndex: Int) {
        self.init(prompt: text, completion: String(classIndex))
    }

    /// The class index of an example made by ``init(text:classIndex:)``; nil for a text pair.
    public var classIndex: Int? { Int(completion) }
}
