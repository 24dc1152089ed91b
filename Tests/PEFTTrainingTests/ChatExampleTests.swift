import Foundation
import PEFTTestSupport
import PEFTTraining
import Testing

@Suite("Chat examples: rendered ids and the assistant-turn loss mask")
struct ChatExampleTests {
    /// A ChatML-like template whose every byte is one byte-tokenizer id.
    static func chatML() throws -> ChatTemplate {
        try ChatTemplate(
            "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}</s>{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    }

    func learned(_ example: ChatExample) -> String {
        let bytes = zip(example.tokenIDs, example.lossMask).filter(\.1).map { UInt8($0.0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("The loss falls on each assistant turn, its end marker included")
    func mask() throws {
        let messages = try JinjaValue(
            json: #"[{"role": "system", "content": "S"}, {"role": "user", "content": "a"},"#
                + #" {"role": "assistant", "content": "bc"}, {"role": "user", "content": "d"},"#
                + #" {"role": "assistant", "content": "é"}]"#)
        let example = try ChatExample(
            messages: messages, template: try Self.chatML(), tokenizer: ByteTokenizer())
        #expect(
            String(decoding: example.tokenIDs.map { UInt8($0) }, as: UTF8.self)
                == "<|system|>S</s><|user|>a</s><|assistant|>bc</s><|user|>d</s><|assistant|>é</s>")
        #expect(learned(example) == "bc</s>é</s>")
        let everything = try ChatExample(
            messages: messages, template: try Self.chatML(), tokenizer: ByteTokenizer(),
            trainOnInputs: true)
        #expect(everything.lossMask.allSatisfy { $0 })
        #expect(everything.tokenIDs == example.tokenIDs)

        var text = TextExample(prompt: "", completion: "")
        text.chat = example
        let batch = CausalLanguageModelingBatch(
            examples: [text, text], tokenizer: ByteTokenizer(), maximumLength: 20)
        #expect(batch.tokenIDs[0] == Array(example.tokenIDs.prefix(20)))
        #expect(
            batch.labels[0]
                == zip(example.tokenIDs, example.lossMask).prefix(20).map { $1 ? $0 : -100 })
    }

    @Test("A template that moves text between turns cannot be masked, and says so")
    func reorderingTemplate() throws {
        // Like Mistral v0.3: the system text joins the last user turn.
        let template = try ChatTemplate(
            "{% for m in messages if m.role != 'system' %}{% if m.role == 'user' and loop.last"
                + " %}{{ messages[0].content }}{% endif %}[{{ m.content }}]{% endfor %}")
        let messages = try JinjaValue(
            json: #"[{"role": "system", "content": "S"}, {"role": "user", "content": "a"},"#
                + #" {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]"#)
        #expect(throws: ChatTemplateError.self) {
            try ChatExample(messages: messages, template: template, tokenizer: ByteTokenizer())
        }
        let all = try ChatExample(
            messages: messages, template: template, tokenizer: ByteTokenizer(),
            trainOnInputs: true)
        #expect(all.lossMask.count == all.tokenIDs.count)
    }

    @Test("Conversation files: a line without messages names its line")
    func loading() throws {
        let url =
            testScratchRoot
            .appendingPathComponent("chat-\(UUID().uuidString).jsonl")
        try (#"{"messages": [{"role": "user", "content": "x"}]}"# + "\n\n" + #"{"text": "y"}"#)
            .write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.missingField(file: url.path, line: 3, field: "messages")) {
            try ChatExample.loadConversations(jsonLines: url)
        }
    }
}
