import Foundation
import Testing

/// The Llama-family tokenizer fixtures of PEFTTokenizersTests, with the ids transformers gave.
enum TokenizerFixture {
    static func folder(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PEFTTokenizersTests/Fixtures/\(name)").standardized
    }

    /// The fixture's expected.json as a dictionary.
    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: folder(name).appendingPathComponent("expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

@Suite("peft tokenize")
struct TokenizeCommandTests {
    func printedObject(_ run: PEFTProcess) throws -> [String: Any] {
        #expect(run.status == 0, "\(run.standardError)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    @Test(
        "--text --json prints the ids transformers' tokenizer(text) gives",
        arguments: ["llama3-bpe", "qwen2-bpe", "llama2-spm", "mistral-metaspace"])
    func textIDs(name: String) throws {
        let cases = try #require(try TokenizerFixture.expected(name)["cases"] as? [[String: Any]])
        for testCase in cases.filter({ !($0["text"] as! String).isEmpty }).prefix(8) {
            let text = testCase["text"] as! String
            let run = try PEFTProcess([
                "tokenize", "--model", TokenizerFixture.folder(name).path, "--text", text, "--json",
            ])
            let ids = try #require(try printedObject(run)["ids"] as? [Int])
            #expect(ids == testCase["ids"] as? [Int], "\(name): \(text.debugDescription)")
        }
    }

    @Test("--data shows each example's tokens, with the loss on the completion and EOS only")
    func dataLossMask() throws {
        let folder = TokenizerFixture.folder("llama3-bpe").path
        let eos = try #require(try TokenizerFixture.expected("llama3-bpe")["eos_token_id"] as? Int)
        let data = try temporaryFolder().appendingPathComponent("train.jsonl")
        let examples = [("Q: 2+2?", " 4"), ("Café 日本語", " naïve 😀"), ("Tabs\there", "\r\nok")]
        let lines = try examples.map { prompt, completion in
            String(
                decoding: try JSONSerialization.data(
                    withJSONObject: ["prompt": prompt, "completion": completion]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(
            to: data, atomically: true, encoding: .utf8)

        let run = try PEFTProcess(["tokenize", "--model", folder, "--data", data.path, "--json"])
        let printed = try #require(try printedObject(run)["examples"] as? [[String: Any]])
        #expect(printed.count == examples.count)
        for ((prompt, _), example) in zip(examples, printed) {
            let ids = try #require(example["ids"] as? [Int])
            let mask = try #require(example["loss_mask"] as? [Int])
            let promptRun = try PEFTProcess(
                ["tokenize", "--model", folder, "--text", prompt, "--json"])
            let promptIDs = try #require(try printedObject(promptRun)["ids"] as? [Int])
            #expect(Array(ids.prefix(promptIDs.count)) == promptIDs)
            #expect(
                mask == Array(repeating: 0, count: promptIDs.count)
                    + Array(repeating: 1, count: ids.count - promptIDs.count))
            #expect(ids.last == eos)
            #expect((example["tokens"] as? [String])?.count == ids.count)
        }

        let text = try PEFTProcess(["tokenize", "--model", folder, "--data", data.path])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput.contains("example 1: "))
        #expect(text.standardOutput.contains("learn"))
        #expect(text.standardOutput.contains("<|end_of_text|>"))
    }

    @Test("Bad input gives one line on stderr and a non-zero exit")
    func errors() throws {
        let good = TokenizerFixture.folder("llama2-spm").path
        let empty = try temporaryFolder()
        let broken = try temporaryFolder()
        try Data(#"{"model": {"type": "BPE", "vocab": {"#.utf8).write(
            to: broken.appendingPathComponent("tokenizer.json"))
        let unsupported = try temporaryFolder()
        try Data(#"{"model": {"type": "WordPiece", "vocab": {}}}"#.utf8).write(
            to: unsupported.appendingPathComponent("tokenizer.json"))
        let badData = try temporaryFolder().appendingPathComponent("bad.jsonl")
        try Data("{\"prompt\": \"a\", \"completion\": \"b\"}\nnot json\n".utf8).write(to: badData)
        let noCompletion = try temporaryFolder().appendingPathComponent("fields.jsonl")
        try Data("{\"prompt\": \"a\"}\n".utf8).write(to: noCompletion)
        // Problems with files give one line; usage errors add ArgumentParser's usage hint.
        let cases: [([String], String)] = [
            (["tokenize", "--model", "/nonexistent/model", "--text", "x"], "does not exist"),
            (["tokenize", "--model", empty.path, "--text", "x"], "tokenizer.json"),
            (["tokenize", "--model", broken.path, "--text", "x"], "malformed"),
            (["tokenize", "--model", unsupported.path, "--text", "x"], "WordPiece"),
            (["tokenize", "--model", good, "--data", badData.path], "bad.jsonl:2"),
            (["tokenize", "--model", good, "--data", noCompletion.path], "completion"),
            (["tokenize", "--model", good, "--data", "/nonexistent/data.jsonl"], "data.jsonl"),
        ]
        let usage: [([String], String)] = [
            (["tokenize", "--model", good], "exactly one of --text and --data"),
            (["tokenize", "--model", good, "--text", "x", "--data", badData.path], "exactly one"),
        ]
        for (arguments, phrase) in cases + usage {
            let run = try PEFTProcess(arguments)
            #expect(run.status != 0, "\(arguments) exited 0")
            let lines = run.standardError.split(separator: "\n").filter { !$0.isEmpty }
            #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
            #expect(!run.standardError.contains("Fatal error"), "\(arguments) crashed")
            let allowed = usage.contains { $0.0 == arguments } ? 3 : 1
            #expect(
                lines.count >= 1 && lines.count <= allowed, "\(arguments): \(run.standardError)")
        }
    }
}
