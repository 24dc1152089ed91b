import Foundation
import PEFT

/// One line of `peft generate --prompts`: a prompt and the adapter that serves it.
struct PromptRequest {
    /// The prompt text.
    let prompt: String
    /// The adapter's name, or `__base__`.
    let adapter: String
    /// The 1-based line it came from, for messages.
    let line: Int

    /// Reads every non-blank line of `url`; a line without `"adapter"` uses `defaultAdapter`
    /// (the base when there is none).
    static func load(_ url: URL, defaultAdapter: String?) throws -> [PromptRequest] {
        guard let data = FileManager.default.contents(atPath: url.path),
            let text = String(data: data, encoding: .utf8)
        else { throw CommandError("--prompts: cannot read \(url.path)") }
        var requests: [PromptRequest] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let place = "--prompts \(url.lastPathComponent) line \(index + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)),
                let fields = object as? [String: Any]
            else { throw CommandError("\(place): not a JSON object") }
            guard let prompt = fields["prompt"] as? String else {
                throw CommandError("\(place): needs a string \"prompt\"")
            }
            let adapter: String
            switch fields["adapter"] {
            case nil, is NSNull: adapter = defaultAdapter ?? AdapterRowAssignment.baseName
            case let name as String: adapter = name
            default: throw CommandError("\(place): \"adapter\" must be a string")
            }
            requests.append(PromptRequest(prompt: prompt, adapter: adapter, line: index + 1))
        }
        guard !requests.isEmpty else {
            throw CommandError("--prompts: \(url.path) holds no prompts")
        }
        return requests
    }
}
