import Foundation
import PEFTTestSupport
import Testing

/// `peft train` given values a new user might type: each ends in an error naming the option or the
/// line, never in a trap, and a run that goes bad keeps its last good checkpoint.
@Suite("peft train: bad input and runs that go bad")
struct BadTrainingInputTests {
    /// Lines of `length`-character prompts and completions.
    static func longData(in root: URL, count: Int, length: Int) throws -> URL {
        let data = root.appendingPathComponent("long.jsonl")
        let text = String(repeating: "x", count: length)
        let lines = (0..<count).map { _ in #"{"prompt": "\#(text)", "completion": "\#(text)"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: data)
        return data
    }

    @Test(
        "Bad values end in an error naming the option or the line",
        arguments: [
            (["--task", "copy", "--lr", "inf"], "--lr"),
            (["--task", "copy", "--lr", "nan"], "--lr"),
            (["--task", "copy", "--alpha", "nan"], "--alpha"),
            (
                ["--task", "copy", "--method", "prefix", "--virtual-tokens", "500"],
                "--virtual-tokens 500"
            ),
            (["--long", "--method", "prompt", "--max-length", "1000"], "long.jsonl:1: "),
            (["--long", "--method", "lora", "--max-length", "1000"], "lower --max-length to 128"),
            (["--long-prompt"], "held-out prompt"),
        ])
    func refused(arguments: [String], phrase: String) throws {
        let root = try temporaryFolder()
        var arguments = arguments
        if let index = arguments.firstIndex(of: "--long") {
            arguments[index...index] = [
                "--data", try Self.longData(in: root, count: 20, length: 300).path,
            ]
        }
        if let index = arguments.firstIndex(of: "--long-prompt") {
            // 11 lines hold out the last; its 200-byte prompt fits --max-length 64 in training only.
            let data = try Self.longData(in: root, count: 11, length: 200).path
            arguments[index...index] = ["--data", data, "--max-length", "64"]
        }
        let run = try PEFTProcess(
            ["train", "--config", "micro", "--steps", "2", "--batch-size", "2"] + arguments + [
                "--out", root.appendingPathComponent("out").path,
            ])
        #expect(!run.crashed, "\(arguments) trapped: \(run.standardError.suffix(600))")
        #expect(run.status != 0, "\(arguments) exited 0")
        #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
    }

    @Test("A loss that turns NaN stops the run naming the step; the last checkpoint stays loadable")
    func nonFiniteLossStops() throws {
        let root = try temporaryFolder()
        let out = root.appendingPathComponent("out")
        let common = [
            "train", "--config", "micro", "--task", "copy", "--batch-size", "2", "--steps", "6",
            "--save-every", "1", "--out", out.path,
        ]
        let diverging = try PEFTProcess(common + ["--lr", "1e30"])
        #expect(!diverging.crashed && diverging.status != 0, "\(diverging.standardError)")
        let failedStep = try #require(
            diverging.standardError.firstMatch(of: /step (\d+): the loss is/).flatMap {
                Int($0.1)
            }, "\(diverging.standardError)")
        let state = try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("checkpoint/trainer_state.json")))
        #expect((state as? [String: Any])?["step"] as? Int == failedStep - 1)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter").path))

        // The checkpoint is intact: resuming from it reaches the same step and stops there again.
        let resumed = try PEFTProcess(common + ["--lr", "1e30", "--resume", out.path])
        #expect(!resumed.crashed && resumed.status != 0)
        #expect(resumed.standardError.contains("step \(failedStep): the loss is"))
    }

    @Test("--skip-nonfinite skips such steps, counts them, and finishes")
    func nonFiniteStepsSkipped() throws {
        let root = try temporaryFolder()
        let run = try PEFTProcess([
            "train", "--config", "micro", "--task", "copy", "--batch-size", "2", "--steps", "4",
            "--lr", "1e30", "--skip-nonfinite", "--eval-examples", "1", "--json", "--out",
            root.appendingPathComponent("out").path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let skipped = try #require(try TrainCommandTests.summary(run)["skipped_steps"] as? Int)
        #expect(skipped >= 1)
        #expect(run.standardError.contains("skipped (loss"))
    }

    @Test(
        "peft compare refuses values no run could use, before running any",
        arguments: [
            (["--config", "micro", "--task", "copy", "--steps", "0"], "--steps"),
            (["--config", "micro", "--task", "copy", "--alpha", "inf"], "--alpha"),
            (["--task", "copy"], "--model and --config"),
        ])
    func compareRefuses(arguments: [String], phrase: String) throws {
        let out = try temporaryFolder().appendingPathComponent("report")
        let run = try PEFTProcess(["compare"] + arguments + ["--out", out.path])
        #expect(!run.crashed && run.status != 0, "\(arguments)")
        #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out.path), "\(arguments) started runs")
    }
}
