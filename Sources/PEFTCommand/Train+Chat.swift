// `peft train --data` with chat lines: each conversation is rendered with the model folder's chat
// template and learned on its assistant turns (everything with --train-on-inputs).
import Foundation
import PEFT
import PEFTTraining

extension Train {
    /// The chat examples of `url`, or `nil` when its first line is not a `{"messages"}` object; they
    /// are split into training, held-out and validation examples as other data is.
    func chatExamples(_ url: URL) throws -> [TextExample]? {
        guard try Tokenize.isChatLines(url) else { return nil }
        guard let model, tokenizer == nil else {
            throw CommandError(
                "\(url.path):1: {\"messages\"} lines need --model with its own tokenizer and chat "
                    + "template (not --random-model or --tokenizer byte)")
        }
        let folder = URL(fileURLWithPath: model)
        let template = try ChatTemplate(contentsOf: folder)
        let tokenizer = try loadTokenizer(contentsOf: folder)
        var all: [TextExample] = []
        for (index, conversation) in try ChatExample.loadConversations(jsonLines: url).enumerated()
        {
            do {
                all.append(
                    try Self.chatExample(
                        conversation.messages, tools: conversation.tools, template: template,
                        tokenizer: tokenizer, trainOnInputs: trainOnInputs))
            } catch let error as ChatTemplateError {
                throw CommandError("\(url.path):\(index + 1): \(error)")
            }
        }
        return all
    }

    /// A training example for one conversation: its rendered ids and mask, with the prompt (the
    /// turns before the last, with the generation prompt) and the last assistant reply as the
    /// prompt and completion that evaluation generates from.
    static func chatExample(
        _ messages: JinjaValue, tools: JinjaValue, template: ChatTemplate,
        tokenizer: any Tokenizer, trainOnInputs: Bool
    ) throws -> TextExample {
        let chat = try ChatExample(
            messages: messages, tools: tools, template: template, tokenizer: tokenizer,
            trainOnInputs: trainOnInputs)
        var prompt = ""
        var completion = ""
        if case .array(let list) = messages, case .object(let last)? = list.last,
            case .string("assistant")? = last["role"], case .string(let reply)? = last["content"]
        {
            prompt = try template.render(
                messages: .array(Array(list.dropLast())), tools: tools, addGenerationPrompt: true)
            completion = reply
        }
        var example = TextExample(prompt: prompt, completion: completion)
        example.chat = chat
        return example
    }
}
