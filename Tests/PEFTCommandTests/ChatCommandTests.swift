import Foundation
import Testing

/// A temporary model folder with a tokenizer fixture's files and a chat-template fixture's
/// template written into tokenizer_config.json (or chat_template.jinja).
func chatFolder(tokenizer: String, template name: String, asJinjaFile: Bool = false) throws -> (
    URL, [String: Any]
) {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../PEFTTokenizersTests/Fixtures").standardized
    let fixture = try #require(
        try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("chat-templates/\(name).json")))
            as? [String: Any])
    let folder = try temporaryFolder()
    try FileManager.default.copyItem(
        at: fixtures.appendingPathComponent("\(tokenizer)/tokenizer.json"),
        to: folder.appendingPathComponent("tokenizer.json"))
    let configurationData = try Data(
        contentsOf: fixtures.appendingPathComponent("\(tokenizer)/tokenizer_config.json"))
    var configuration = try #require(
        try JSONSerialization.jsonObject(with: configurationData) as? [String: Any])
    let template = try #require(fixture["template"] as? String)
    if asJinjaFile {
        try template.write(
            to: folder.appendingPathComponent("chat_template.jinja"), atomically: true,
            encoding: .utf8)
    } else {
        configuration["chat_template"] = template
    }
    try JSONSerialization.data(withJSONObject: configuration).write(
        to: folder.appendingPathComponent("tokenizer_config.json"))
    return (folder, fixture)
}

@Suite("peft tokenize with chat templates")
struct ChatCommandTests {
    func printedObject(_ run: PEFTProcess) throws -> [String: Any] {
        #expect(run.status == 0, "\(run.standardError)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    static let weatherTool = """
        [{"type": "function", "function": {"name": "get_weather", \
        "description": "Get the current weather in a city.", "parameters": {"type": "object", \
        "properties": {"city": {"type": "string", "description": "The city, e.g. Zürich"}, \
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}]
        """

    @Test("--messages --json prints apply_chat_template's ids, with and without the prompt")
    func messagesIDs() throws {
        for (asJinjaFile, name, tokenizer) in [
            (false, "qwen2.5", "qwen2-bpe"), (true, "llama3", "llama3-bpe"),
        ] {
            let (folder, fixture) = try chatFolder(
                tokenizer: tokenizer, template: name, asJinjaFile: asJinjaFile)
            let cases = try #require(fixture["cases"] as? [[String: Any]])
            for testCase in cases where testCase["ids"] != nil {
                let messages = String(
                    decoding: try JSONSerialization.data(withJSONObject: testCase["messages"]!),
                    as: UTF8.self)
                var arguments = [
                    "tokenize", "--model", folder.path, "--messages", messages, "--json",
                ]
                if !(testCase["tools"] is NSNull) {
                    // JSONSerialization would reorder the schemas' keys, which tojson prints: the
                    // one case checked here spells its tool out in the script's key order.
                    guard testCase["name"] as? String == "tools-system" else { continue }
                    arguments += ["--tools", Self.weatherTool]
                }
                if testCase["add_generation_prompt"] as? Bool == true {
                    arguments.append("--add-generation-prompt")
                }
                let ids = try #require(
                    try printedObject(try PEFTProcess(arguments))["ids"] as? [Int])
                #expect(ids == testCase["ids"] as? [Int], "\(name) \(testCase["name"]!)")
            }
        }
    }

    @Test("--data --show-mask on chat lines: the loss falls on the assistant turns only")
    func chatDataMask() throws {
        let (folder, _) = try chatFolder(tokenizer: "qwen2-bpe", template: "qwen2.5")
        let data = try temporaryFolder().appendingPathComponent("chat.jsonl")
        let lines = [
            #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}"#,
            #"{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}, {"role": "assistant", "content": "d e"}]}"#,
        ]
        try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let run = try PEFTProcess([
            "tokenize", "--model", folder.path, "--data", data.path, "--show-mask", "--json",
        ])
        let examples = try #require(try printedObject(run)["examples"] as? [[String: Any]])
        #expect(examples.count == 2)
        let learned = examples.map { example in
            let tokens = example["tokens"] as! [String]
            let mask = example["loss_mask"] as! [Int]
            return zip(tokens, mask).filter { $1 == 1 }.map(\.0).joined()
        }
        #expect(learned[0] == "Hello!<|im_end|>Ċ")
        #expect(learned[1] == "b<|im_end|>Ċd" + "Ġe<|im_end|>Ċ")

        let everything = try PEFTProcess([
            "tokenize", "--model", folder.path, "--data", data.path, "--train-on-inputs", "--json",
        ])
        let all = try #require(try printedObject(everything)["examples"] as? [[String: Any]])
        #expect((all[0]["loss_mask"] as! [Int]).allSatisfy { $0 == 1 })

        let text = try PEFTProcess([
            "tokenize", "--model", folder.path, "--data", data.path, "--show-mask",
        ])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput.contains("learn"))
    }

    @Test("A folder without a chat template, or a broken template, is one error line")
    func errors() throws {
        let plain = TokenizerFixture.folder("qwen2-bpe").path
        let run = try PEFTProcess([
            "tokenize", "--model", plain, "--messages", #"[{"role": "user", "content": "x"}]"#,
        ])
        #expect(run.status != 0)
        #expect(!run.crashed)
        #expect(run.standardError.contains("chat template"), "\(run.standardError)")

        let (folder, _) = try chatFolder(tokenizer: "qwen2-bpe", template: "qwen2.5")
        try "ok\n{% macro m() %}{% endmacro %}".write(
            to: folder.appendingPathComponent("chat_template.jinja"), atomically: true,
            encoding: .utf8)
        let broken = try PEFTProcess([
            "tokenize", "--model", folder.path, "--messages",
            #"[{"role": "user", "content": "x"}]"#,
        ])
        #expect(broken.status != 0)
        #expect(broken.standardError.contains("line 2"), "\(broken.standardError)")
    }
}

@Suite("peft train on chat data")
struct ChatTrainingTests {
    func finalLoss(_ run: PEFTProcess) throws -> Double {
        #expect(run.status == 0, "\(run.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        return try #require(object["final_loss"] as? Double)
    }

    @Test("The loss falls on a tiny Llama whose folder has a chat template")
    func lossFalls() throws {
        let folder = try llamaFolder()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PEFTTokenizersTests/Fixtures/chat-templates/llama3.json")
            .standardized
        let template = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])?[
                "template"] as? String)
        try template.write(
            to: folder.appendingPathComponent("chat_template.jinja"), atomically: true,
            encoding: .utf8)
        let data = try temporaryFolder().appendingPathComponent("chat.jsonl")
        let lines = ["red", "green", "blue", "cyan"].map { word in
            #"{"messages": [{"role": "system", "content": "Repeat."}, {"role": "user", "content": "\#(word)"}, {"role": "assistant", "content": "\#(word) \#(word)"}]}"#
        }
        try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        func train(_ steps: Int, _ extra: [String] = []) throws -> Double {
            try finalLoss(
                try PEFTProcess(
                    [
                        "train", "--model", folder.path, "--data", data.path, "--method", "lora",
                        "--steps", "\(steps)", "--batch-size", "4", "--lr", "0.02",
                        "--eval-examples", "0", "--out", try temporaryFolder().path, "--json",
                    ] + extra))
        }
        let before = try train(1)
        let after = try train(30)
        #expect(after < 0.7 * before, "loss \(before) -> \(after)")
        // Learning the whole conversation is another objective, with its own loss.
        #expect(try train(1, ["--train-on-inputs"]) != before)
        print("chat training loss: \(before) -> \(after)")
    }
}
