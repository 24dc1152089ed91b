// Reading examples from JSON Lines files, one object per line.
import Foundation

extension TextExample {
    /// Reads one example per non-blank line of a JSON Lines file, taking the prompt and the
    /// completion from the string fields `promptKey` and `completionKey`.
    ///
    /// ```swift
    /// // {"prompt": "2 + 2 =", "completion": " 4"}
    /// let examples = try TextExample.load(jsonLines: URL(fileURLWithPath: "train.jsonl"))
    /// ```
    ///
    /// - Throws: ``DatasetError`` naming the file and the 1-based line of the first bad line.
    public static func load(
        jsonLines url: URL, promptKey: String = "prompt", completionKey: String = "completion"
    ) throws -> [TextExample] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.unreadableFile(path: url.path, reason: "not UTF-8")
        }
        var examples: [TextExample] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(trimmed.utf8))
            } catch {
                throw DatasetError.malformedLine(
                    file: url.path, line: index + 1, reason: "not valid JSON")
            }
            guard let fields = object as? [String: Any] else {
                throw DatasetError.malformedLine(
                    file: url.path, line: index + 1, reason: "a JSON value that is not an object")
            }
            guard let prompt = fields[promptKey] as? String else {
                throw DatasetError.missingField(file: url.path, line: index + 1, field: promptKey)
            }
            guard let completion = fields[completionKey] as? String else {
                throw DatasetError.missingField(
                    file: url.path, line: index + 1, field: completionKey)
            }
            examples.append(TextExample(prompt: prompt, completion: completion))
        }
        guard !examples.isEmpty else { throw DatasetError.empty(file: url.path) }
        return examples
    }
}
