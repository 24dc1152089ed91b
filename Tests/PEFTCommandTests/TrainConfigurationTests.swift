import Foundation
import Testing

/// `peft train -c FILE`, the detected data formats, validation (best checkpoint, early stopping,
/// `metrics.jsonl`) and `peft eval`, run through the built binary.
@Suite("peft train configuration files, validation and peft eval")
struct TrainConfigurationTests {
    /// `Examples/configs` in this checkout.
    static let configsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/configs")

    static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }

    /// The `metrics.jsonl` lines of a run.
    static func metrics(_ out: URL) throws -> [[String: Any]] {
        let text = try String(
            contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func jsonLines(_ objects: [[String: Any]], in url: URL) throws {
        let lines = try objects.map {
            String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self)
        }
        try write(lines.joined(separator: "\n") + "\n", to: url)
    }

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: configsFolder.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test(
        "Every file in Examples/configs trains, keeps the best checkpoint and writes metrics.jsonl")
    func exampleConfigurations() throws {
        #expect(Self.files.count >= 2)
        for file in Self.files {
            let out = try temporaryFolder().appendingPathComponent("run")
            let run = try PEFTProcess([
                "train", "-c", Self.configsFolder.appendingPathComponent(file).path, "--steps", "4",
                "--eval-every", "2", "--out", out.path, "--json",
            ])
            #expect(run.status == 0, "\(file): \(run.standardError)")
            let summary = try TrainCommandTests.summary(run)
            #expect(summary["steps"] as? Int == 4, "\(file)")
            #expect(summary["best_step"] as? Int != nil, "\(file)")
            #expect(summary["truncated_examples"] as? Int == 0, "\(file)")
            let best = out.appendingPathComponent("best")
            #expect(
                FileManager.default.fileExists(
                    atPath: best.appendingPathComponent("adapter_model.safetensors").path),
                "\(file)")
            let record = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: best.appendingPathComponent("best.json")))
                    as? [String: Any])
            #expect(record["step"] as? Int == summary["best_step"] as? Int)
            let lines = try Self.metrics(out)
            #expect(lines.map { $0["step"] as? Int } == [1, 2, 3, 4], "\(file)")
            #expect(lines[1]["val_loss"] as? Double != nil)
            #expect(lines[0]["val_loss"] is NSNull)
            for key in ["loss", "learning_rate", "tokens_per_second", "peak_memory_bytes"] {
                #expect(lines[3][key] as? Double != nil, "\(file): \(key)")
            }
            // The chart draws both curves.
            let svg = try String(
                contentsOf: out.appendingPathComponent("loss_curve.svg"), encoding: .utf8)
            #expect(svg.contains("evaluation loss"))
        }
    }

    @Test("The command line overrides the file; underscores and hyphens name the same option")
    func overrides() throws {
        let root = try temporaryFolder()
        let file = root.appendingPathComponent("run.yaml")
        try Self.write(
            "random_model: micro\ntask: flip\nsteps: 5\nbatch_size: 2\neval_examples: 2\njson: true\n",
            to: file)
        let run = try PEFTProcess([
            "train", "-c", file.path, "--steps", "2", "--out",
            root.appendingPathComponent("o").path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let summary = try TrainCommandTests.summary(run)
        #expect(summary["steps"] as? Int == 2)
        // --config FILE reads a file too, as mlx-lm's -c/--config does.
        let again = try PEFTProcess([
            "train", "--config", file.path, "--out", root.appendingPathComponent("p").path,
        ])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(try TrainCommandTests.summary(again)["steps"] as? Int == 5)
        // A flag the file switches on, the command line switches off.
        let plain = try PEFTProcess([
            "train", "-c", file.path, "--steps", "1", "--no-json", "--out",
            root.appendingPathComponent("q").path,
        ])
        #expect(plain.status == 0, "\(plain.standardError)")
        #expect(!plain.standardOutput.hasPrefix("{"), "\(plain.standardOutput)")
    }

    @Test("An unknown key, a bad flag value or a nested file is an error naming the key")
    func badKeys() throws {
        let root = try temporaryFolder()
        let cases: [(String, String)] = [
            (
                "random-model: micro\nbatchsize: 4\n",
                "unknown key 'batchsize'; did you mean 'batch-size'?"
            ),
            ("random-model: micro\nlearning-rate: 1\n", "unknown key 'learning-rate'"),
            ("json: maybe\n", "'json' is a flag"),
            ("config-file: other.yaml\n", "cannot name another"),
            ("- a\n- b\n", "must be a mapping"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let file = root.appendingPathComponent("bad\(index).yaml")
            try Self.write(text, to: file)
            let run = try PEFTProcess([
                "train", "-c", file.path, "--out", root.appendingPathComponent("o").path,
            ])
            #expect(run.status != 0 && !run.crashed)
            #expect(run.standardError.contains(message), "\(text): \(run.standardError)")
        }
    }

    @Test("--config micro still works, with a note; --random-model is the new name")
    func deprecatedConfig() throws {
        let root = try temporaryFolder()
        let common = ["train", "--task", "flip", "--steps", "1", "--batch-size", "2", "--json"]
        let old = try PEFTProcess(
            common + ["--config", "micro", "--out", root.appendingPathComponent("a").path])
        #expect(old.status == 0, "\(old.standardError)")
        #expect(old.standardError.contains("--config is deprecated"))
        let new = try PEFTProcess(
            common + ["--random-model", "micro", "--out", root.appendingPathComponent("b").path])
        #expect(new.status == 0, "\(new.standardError)")
        #expect(!new.standardError.contains("deprecated"))
        #expect(
            try TrainCommandTests.summary(old)["final_loss"] as? Double
                == TrainCommandTests.summary(new)["final_loss"] as? Double)
        let bad = try PEFTProcess(
            common + ["--random-model", "huge", "--out", root.appendingPathComponent("c").path])
        #expect(bad.status != 0 && bad.standardError.contains("micro, tiny or small"))
    }

    @Test("A line that fits no format, or lacks its format's key, names the file, line and key")
    func dataFormats() throws {
        let root = try temporaryFolder()
        let cases: [([[String: Any]], String)] = [
            (
                [["text": "a b"], ["prompt": "x", "completion": "y"]],
                ":2: missing the string field \"text\""
            ),
            (
                [["prompt": "x", "completion": "y"], ["prompt": "x"]],
                ":2: missing the string field \"completion\""
            ),
            ([["label": 1]], ":1: fits no data format"),
            (
                [["messages": [["role": "user", "content": "hi"]]]],
                ":1: {\"messages\"} lines need --model with its own tokenizer and chat template"
            ),
        ]
        for (index, (lines, message)) in cases.enumerated() {
            let data = root.appendingPathComponent("d\(index).jsonl")
            try Self.jsonLines(lines, in: data)
            let run = try PEFTProcess([
                "train", "--random-model", "micro", "--data", data.path, "--steps", "1",
                "--out", root.appendingPathComponent("o").path,
            ])
            #expect(run.status != 0 && !run.crashed)
            #expect(
                run.standardError.contains(data.path + message), "\(message): \(run.standardError)")
        }
    }

    @Test("Early stopping ends the run after N evaluations without a better validation loss")
    func earlyStopping() throws {
        let root = try temporaryFolder()
        let data = root.appendingPathComponent("d.jsonl")
        try Self.jsonLines((0..<20).map { ["text": "line \($0) of text"] }, in: data)
        let out = root.appendingPathComponent("o")
        // --lr 0: the validation loss never improves on the first evaluation.
        let run = try PEFTProcess([
            "train", "--random-model", "micro", "--data", data.path, "--val-fraction", "0.25",
            "--lr", "0", "--steps", "10", "--batch-size", "2", "--eval-every", "1",
            "--early-stopping-patience", "2", "--max-length", "8", "--out", out.path, "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardError.contains("early stopping at step 3"))
        let summary = try TrainCommandTests.summary(run)
        #expect(summary["steps"] as? Int == 3)
        #expect(summary["best_step"] as? Int == 1)
        // Every training line is longer than 8 bytes.
        #expect(summary["truncated_examples"] as? Int == 15)
        #expect(try Self.metrics(out).count == 3)
    }

    @Test("A resumed run continues metrics.jsonl and the best loss without repeating steps")
    func resumeKeepsMetrics() throws {
        let root = try temporaryFolder()
        let out = root.appendingPathComponent("o").path
        let common = [
            "train", "--random-model", "micro", "--data",
            Self.configsFolder.appendingPathComponent("data/reverse.jsonl").path, "--val-fraction",
            "0.1", "--steps", "4", "--batch-size", "4", "--eval-every", "1", "--group-by-length",
            "--out", out,
        ]
        let first = try PEFTProcess(common + ["--stop-after", "2"])
        #expect(first.status == 0, "\(first.standardError)")
        let second = try PEFTProcess(common + ["--resume", out, "--json"])
        #expect(second.status == 0, "\(second.standardError)")
        let straightOut = root.appendingPathComponent("s").path
        let straight = try PEFTProcess(
            Array(common.dropLast()) + [straightOut, "--json"])
        #expect(straight.status == 0, "\(straight.standardError)")
        let resumed = try Self.metrics(URL(fileURLWithPath: out))
        #expect(resumed.map { $0["step"] as? Int } == [1, 2, 3, 4])
        let uninterrupted = try Self.metrics(URL(fileURLWithPath: straightOut))
        #expect(
            resumed.map { $0["val_loss"] as? Double }
                == uninterrupted.map { $0["val_loss"] as? Double })
        #expect(
            try TrainCommandTests.summary(second)["best_step"] as? Int
                == TrainCommandTests.summary(straight)["best_step"] as? Int)
    }

    @Test("peft eval prints loss, perplexity and exact match, with and without an adapter")
    func eval() throws {
        let root = try temporaryFolder()
        let base = root.appendingPathComponent("base")
        try byteGPT2Folder(base, maximumPositions: 64, seed: 1)
        let data = Self.configsFolder.appendingPathComponent("data/reverse.jsonl").path
        let out = root.appendingPathComponent("o")
        let train = try PEFTProcess([
            "train", "--model", base.path, "--tokenizer", "byte", "--data", data, "--steps", "3",
            "--out", out.path,
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let common = ["eval", "--model", base.path, "--tokenizer", "byte", "--data", data]
        let plain = try PEFTProcess(common + ["--exact-match-examples", "2"])
        #expect(plain.status == 0, "\(plain.standardError)")
        #expect(plain.standardOutput.contains("perplexity"))
        let json = try PEFTProcess(
            common + [
                "--adapter", out.appendingPathComponent("adapter").path, "--json",
                "--exact-match-examples", "2",
            ])
        #expect(json.status == 0, "\(json.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        )
        let loss = try #require(object["loss"] as? Double)
        #expect(abs(try #require(object["perplexity"] as? Double) - exp(loss)) < 1e-3 * exp(loss))
        #expect(object["exact_match_examples"] as? Int == 2)
        #expect(object["examples"] as? Int == 80)
    }
}
