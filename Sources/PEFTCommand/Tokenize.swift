import ArgumentParser
import Foundation
import PEFT
import PEFTTraining

/// `peft tokenize`: the ids a model folder's tokenizer gives, or what `peft train` learns from.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text, or show each training example's tokens and loss mask.",
        discussion: """
            With --text, prints the ids transformers' tokenizer(text) gives (special tokens as \
            the tokenizer.json post-processor adds them). With --data, reads JSON Lines of \
            {"prompt": ..., "completion": ...} as peft train does and marks the tokens the loss \
            is taken on: the completion and the end-of-sequence token, not the prompt. Lines of \
            {"messages": [{"role": ..., "content": ...}, ...]} are rendered with the model's chat \
            template and learned on the assistant turns (everything with --train-on-inputs). \
            With --messages, renders one conversation with the chat template and prints the ids \
            of tokenizer(text, add_special_tokens=False), as transformers' apply_chat_template \
            gives them.
            """)

    @Option(name: .long, help: "A Hugging Face model folder with its tokenizer files.")
    var model: String

    @Option(name: .long, help: "The text to tokenize.")
    var text: String?

    @Option(name: .long, help: "A JSON Lines file of prompt/completion or chat examples.")
    var data: String?

    @Option(name: .long, help: "A JSON list of {\"role\", \"content\"} messages to render.")
    var messages: String?

    @Option(name: .long, help: "A JSON list of tool schemas for the chat template (--messages).")
    var tools: String?

    @Flag(
        name: .customLong("add-generation-prompt"),
        help: "End the rendered conversation with an open assistant turn (--messages).")
    var addGenerationPrompt = false

    @Flag(
        name: .customLong("show-mask"),
        help: "Mark the tokens that carry the loss (--data; always shown there).")
    var showMask = false

    @Flag(
        name: .customLong("train-on-inputs"),
        help: "Chat data: take the loss on every token, not only the assistant turns.")
    var trainOnInputs = false

    @Option(
        name: .customLong("max-length"), help: "Truncate examples to this many tokens (--data).")
    var maximumLength = 128

    @Flag(
        name: .customLong("no-special-tokens"),
        help: "Leave out the BOS/EOS the file adds (--text).")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard [text, data, messages].count(where: { $0 != nil }) == 1 else {
            throw ValidationError("give exactly one of --text and --data (or --messages)")
        }
        guard maximumLength > 0 else { throw ValidationError("--max-length must be positive") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: model)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else { throw CommandError("--model: folder \(folder.path) does not exist") }
        let tokenizer = try loadTokenizer(contentsOf: folder)
        if let text {
            let ids = tokenizer.encode(text, addingSpecialTokens: !noSpecialTokens)
            if json {
                try printJSON(["ids": ids])
            } else {
                print("ids: \(ids.map(String.init).joined(separator: ", "))")
                printTokens(ids, labels: nil, tokenizer: tokenizer)
            }
            return
        }
        if let messages {
            try printConversation(messages, folder: folder, tokenizer: tokenizer)
            return
        }
        let url = URL(fileURLWithPath: data!)
        if try isChatData(url) {
            try printChatExamples(url, folder: folder, tokenizer: tokenizer)
            return
        }
        let examples = try TextExample.load(jsonLines: url)
        var objects: [[String: Any]] = []
        for (index, example) in examples.enumerated() {
            let batch = CausalLanguageModelingBatch(
                examples: [example], tokenizer: tokenizer, maximumLength: maximumLength)
            let ids = batch.tokenIDs[0]
            let labels = batch.labels[0]
            let learned = labels.map { $0 != ignoredTarget }
            if json {
                objects.append([
                    "ids": ids, "tokens": ids.map { tokenizer.token(for: $0) ?? "" },
                    "loss_mask": learned.map { $0 ? 1 : 0 },
                ])
            } else {
                let count = learned.count { $0 }
                print("example \(index + 1): \(ids.count) tokens, \(count) in the loss")
                printTokens(ids, labels: learned, tokenizer: tokenizer)
            }
        }
        if json { try printJSON(["examples": objects]) }
    }

    /// One line per token: id, the vocabulary's spelling, its decoded text, and whether the loss
    /// is taken on it.
    func printTokens(_ ids: [Int], labels: [Bool]?, tokenizer: any PipelineTokenizer) {
        let width = ids.map { String($0).count }.max() ?? 1
        for (position, id) in ids.enumerated() {
            let number = String(repeating: " ", count: width - String(id).count) + String(id)
            let token = (tokenizer.token(for: id) ?? "?").debugDescription
            let decoded = tokenizer.decode([id]).debugDescription
            var line = "  \(number)  \(token)"
            if decoded != token { line += "  \(decoded)" }
            if let labels { line = (labels[position] ? "  learn" : "       ") + line }
            print(line)
        }
    }

    func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}
