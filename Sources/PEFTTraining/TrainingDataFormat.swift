/// The shape of a JSON Lines training file, detected from its first line as mlx-lm detects it.
///
/// ```swift
/// let (format, examples) = try TextExample.load(detectingFormatOf: url)
/// // {"text": ...}                → .text: the loss covers every token
/// // {"prompt": ..., "completion"} → .completion: the loss covers the completion only
/// // {"input": ..., "target": ...} → .inputTarget: an encoder-decoder's input and target
/// ```
public enum TrainingDataFormat: String, Sendable, CaseIterable {
    /// `{"messages": [...]}`: a chat, rendered by a chat template.
    case messages
    /// `{"text": ...}`: plain text, learned in full.
    case text
    /// `{"prompt": ..., "completion": ...}`: learned on the completion.
    case completion
    /// `{"input": ..., "target": ...}`: an encoder-decoder's source and target.
    case inputTarget

    /// The string fields a line of this format must hold.
    public var requiredKeys: [String] {
        switch self {
        case .messages: ["messages"]
        case .text: ["text"]
        case .completion: ["prompt", "completion"]
        case .inputTarget: ["input", "target"]
        }
    }

    /// The format a line's keys name, in mlx-lm's order of precedence; nil when none fits.
    public static func detect(keys: some Collection<String>) -> TrainingDataFormat? {
        let present = Set(keys)
        return [.messages, .text, .completion, .inputTarget].first {
            Set($0.requiredKeys).isSubset(of: present)
        }
            // A line with one key of a pair names that format; the missing key is reported.
            ?? [.completion, .inputTarget].first { !Set($0.requiredKeys).isDisjoint(with: present) }
    }

    /// The example a line of this format stands for; throws ``DatasetError/missingField`` naming
    /// the first required key that is missing or not a string.
    public func example(from fields: [String: Any], file: String, line: Int) throws -> TextExample {
        if self == .messages {
            return try TextExample.chatExample(from: fields, file: file, line: line)
        }
        let values = try requiredKeys.map { key in
            guard let value = fields[key] as? String else {
                throw DatasetError.missingField(file: file, line: line, field: key)
            }
            return value
        }
        // Plain text has no prompt: every token is a completion token and carries loss.
        return self == .text
            ? TextExample(prompt: "", completion: values[0])
            : TextExample(prompt: values[0], completion: values[1])
    }
}
