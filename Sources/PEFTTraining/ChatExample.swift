// Chat data: `{"messages": [{"role", "content"}, ...]}` lines rendered with the model's chat
// template, with the loss on the assistant turns.
import Foundation

/// One conversation rendered with a chat template and tokenized, with the tokens the loss is
/// taken on.
///
/// The loss mask comes from rendering prefixes of the conversation, as trl and axolotl do: the
/// assistant turn `i` starts where `messages[..<i]` rendered with the generation prompt ends, and
/// ends where `messages[...i]` rendered without it ends. Both are located in the ids of the whole
/// conversation as the longest common prefix of their own ids, so a token that straddles a turn
/// boundary counts as part of the assistant turn. A template that does not render a prefix of
/// the conversation as a prefix of its text (Mistral v0.3 moves the system text to the last user
/// turn) is refused for masking with ``ChatTemplateError/invalidConversation(_:)``; with
/// `trainOnInputs` every token is learned and no prefix is rendered.
///
/// ```swift
/// let conversation = try JinjaValue(json: #"[{"role": "user", "content": "Hi"},"#
///     + #" {"role": "assistant", "content": "Hello"}]"#)
/// let example = try ChatExample(
///     messages: conversation, template: template, tokenizer: tokenizer)
/// // example.tokenIDs: the ids of apply_chat_template(...); example.lossMask: true on "Hello<|im_end|>\n"
/// ```
public struct ChatExample: Sendable, Hashable, Codable {
    /// The ids of the rendered conversation, without special tokens added again (the template
    /// writes the BOS itself).
    public var tokenIDs: [Int]
    /// Whether the loss is taken on each token: the assistant turns, or everything when
    /// `trainOnInputs` was set.
    public var lossMask: [Bool]

    /// Renders and tokenizes `messages` (a list of `{"role", "content"}` dicts) with `template`.
    ///
    /// - Throws: ``ChatTemplateError`` when the template fails or cannot give a mask.
    public init(
        messages: JinjaValue, tools: JinjaValue = .none, template: ChatTemplate,
        tokenizer: any Tokenizer, trainOnInputs: Bool = false
    ) throws(ChatTemplateError) {
        guard case .array(let list) = messages, !list.isEmpty else {
            throw .invalidConversation("messages must be a non-empty list")
        }
        let text = try template.render(messages: messages, tools: tools)
        tokenIDs = tokenizer.encode(text, addingSpecialTokens: false)
        if trainOnInputs {
            lossMask = [Bool](repeating: true, count: tokenIDs.count)
            return
        }
        lossMask = [Bool](repeating: false, count: tokenIDs.count)
        func located(_ prefix: String) throws(ChatTemplateError) -> Int {
            guard text.unicodeScalars.starts(with: prefix.unicodeScalars) else {
                throw .invalidConversation(
                    "the chat template does not render the start of the conversation as the start "
                        + "of its text, so the assistant turns cannot be masked (use --train-on-inputs)"
                )
            }
            let ids = tokenizer.encode(prefix, addingSpecialTokens: false)
            return zip(ids, tokenIDs).prefix { $0 == $1 }.count
        }
        for (index, message) in list.enumerated() {
            guard case .object(let object) = message else {
                throw .invalidConversation("message \(index + 1) is not an object")
            }
            guard case .string("assistant")? = object["role"] else { continue }
            let start =
                index == 0
                ? 0
                : try located(
                    template.render(
                        messages: .array(Array(list[..<index])), tools: tools,
                        addGenerationPrompt: true))
            let end = try located(
                template.render(messages: .array(Array(list[...index])), tools: tools))
            for position in start..<max(start, end) { lossMask[position] = true }
        }
    }

    /// Reads one conversation per non-blank line of a JSON Lines file: an object with a
    /// `messages` list and optionally `tools`.
    ///
    /// - Throws: ``DatasetError`` naming the file and the 1-based line of the first bad line.
    public static func loadConversations(jsonLines url: URL) throws -> [(
        messages: JinjaValue, tools: JinjaValue
    )] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.unreadableFile(path: url.path, reason: "not UTF-8")
        }
        var conversations: [(messages: JinjaValue, tools: JinjaValue)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            guard case .object(let object) = try? JinjaValue(json: trimmed) else {
                throw DatasetError.malformedLine(
                    file: url.path, line: index + 1, reason: "not a JSON object")
            }
            guard case .array(let messages)? = object["messages"] else {
                throw DatasetError.missingField(file: url.path, line: index + 1, field: "messages")
            }
            for message in messages {
                guard case .object(let fields) = message, case .string? = fields["role"] else {
                    throw DatasetError.malformedLine(
                        file: url.path, line: index + 1,
                        reason: "every message needs a \"role\" string")
                }
            }
            conversations.append((.array(messages), object["tools"] ?? .none))
        }
        guard !conversations.isEmpty else { throw DatasetError.empty(file: url.path) }
        return conversations
    }
}
