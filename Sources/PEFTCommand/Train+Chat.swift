// `peft train --data` with chat lines: each conversation is rendered with the model folder's chat
// template and learned on its assistant turns (everything with --train-on-inputs).
import Foundation
import PEFT
import PEFTTraining

extension Train {
    /// The chat examples of `url`, split like other data (the last tenth, at most
    /// `--eval-examples`, held out), or `nil` when its first line is not a `{"messages"}` object.
    func loadChatExamples(_ url: URL) throws -> (training: [TextExample], heldOut: [TextExample])? {
        guard try Tokenize.isChatLines(url) else { return nil }
        guard let model, tokenizer == nil else {
            throw CommandError(
                "--data: chat lines need --model with its tokenizer and chat template")
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
        let heldOut = min(evalExamples, all.count / 10)
        return (Array(all.dropLast(heldOut)), Array(all.suffix(heldOut)))
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
