// `peft tokenize --messages` and chat data for `peft tokenize --data`.
import Foundation
import PEFT
import PEFTTraining

extension Tokenize {
    /// Renders `--messages` with the folder's chat template and prints the ids.
    func printConversation(_ messagesJSON: String, folder: URL, tokenizer: any PipelineTokenizer)
        throws
    {
        let template = try ChatTemplate(contentsOf: folder)
        let messages = try JinjaValue(json: messagesJSON)
        let toolList = try tools.map { try JinjaValue(json: $0) } ?? .none
        let text = try template.render(
            messages: messages, tools: toolList, addGenerationPrompt: addGenerationPrompt)
        let ids = tokenizer.encode(text, addingSpecialTokens: false)
        if json {
            try printJSON(["ids": ids])
        } else {
            print("text: \(text.debugDescription)")
            print("ids: \(ids.map(String.init).joined(separator: ", "))")
            printTokens(ids, labels: nil, tokenizer: tokenizer)
        }
    }

    /// Whether the first non-blank line of a JSON Lines file is a `{"messages": ...}` object.
    func isChatData(_ url: URL) throws -> Bool { try Self.isChatLines(url) }

    /// Whether the first non-blank line of a JSON Lines file is a `{"messages": ...}` object.
    static func isChatLines(_ url: URL) throws -> Bool {
        guard let data = try? Data(contentsOf: url) else { return false }
        let text = String(decoding: data, as: UTF8.self)
        guard
            let line = text.split(separator: "\n").first(where: {
                !$0.trimmingCharacters(in: .whitespaces).isEmpty
            })
        else { return false }
        guard case .object(let object)? = try? JinjaValue(json: String(line)) else { return false }
        return object["messages"] != nil
    }

    /// Prints each conversation's tokens and which of them carry the loss.
    func printChatExamples(_ url: URL, folder: URL, tokenizer: any PipelineTokenizer) throws {
        let template = try ChatTemplate(contentsOf: folder)
        var objects: [[String: Any]] = []
        for (index, conversation) in try ChatExample.loadConversations(jsonLines: url).enumerated()
        {
            let example = try ChatExample(
                messages: conversation.messages, tools: conversation.tools, template: template,
                tokenizer: tokenizer, trainOnInputs: trainOnInputs)
            let ids = Array(example.tokenIDs.prefix(maximumLength))
            let learned = Array(example.lossMask.prefix(maximumLength))
            if json {
                objects.append([
                    "ids": ids, "tokens": ids.map { tokenizer.token(for: $0) ?? "" },
                    "loss_mask": learned.map { $0 ? 1 : 0 },
                ])
            } else {
                print(
                    "example \(index + 1): \(ids.count) tokens, \(learned.count { $0 }) in the loss"
                )
                printTokens(ids, labels: learned, tokenizer: tokenizer)
            }
        }
        if json { try printJSON(["examples": objects]) }
    }
}
