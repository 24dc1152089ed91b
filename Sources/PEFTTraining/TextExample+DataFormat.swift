// Reading a JSON Lines file whose format (text, prompt/completion, input/target, messages) is
// detected from its first line.
import Foundation

extension TextExample {
    /// Reads one example per non-blank line of a JSON Lines file in the format its first line
    /// names (``TrainingDataFormat``); every line must then fit that format.
    ///
    /// - Throws: ``DatasetError`` naming the file, the 1-based line and the missing key.
    public static func load(detectingFormatOf url: URL) throws -> (
        format: TrainingDataFormat, examples: [TextExample]
    ) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.unreadableFile(path: url.path, reason: "not UTF-8")
        }
        var format: TrainingDataFormat?
        var examples: [TextExample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) else {
                throw DatasetError.malformedLine(
                    file: url.path, line: index + 1, reason: "not valid JSON")
            }
            guard let fields = object as? [String: Any] else {
                throw DatasetError.malformedLine(
                    file: url.path, line: index + 1, reason: "a JSON value that is not an object")
            }
            if format == nil {
                guard let detected = TrainingDataFormat.detect(keys: fields.keys) else {
                    throw DatasetError.malformedLine(
                        file: url.path, line: index + 1,
                        reason:
                            "fits no data format: expected \"text\", \"prompt\" and \"completion\", "
                            + "\"input\" and \"target\", or \"messages\"")
                }
                format = detected
            }
            examples.append(try format!.example(from: fields, file: url.path, line: index + 1))
        }
        guard let format, !examples.isEmpty else { throw DatasetError.empty(file: url.path) }
        return (format, examples)
    }
}
