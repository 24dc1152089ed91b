import Foundation
import PEFTModels
import PEFTSafeTensors
import PEFTTestSupport
import Testing

@Suite("peft train")
struct TrainCommandTests {
    static let methods = ["lora", "prefix", "ptuning", "full", "selective", "bitfit"]

    @Test(
        "An interrupted run resumed from its checkpoint reaches the same trained weights as an uninterrupted one",
        arguments: methods)
    func resume(method: String) throws {
        let root = try temporaryFolder()
        let common = [
            "train", "--config", "micro", "--task", "flip", "--method", method, "--steps", "4",
            "--batch-size", "2",
            "--grad-accum", "2", "--eval-examples", "1", "--seed", "3", "--virtual-tokens", "3",
        ]
        let straight = try PEFTProcess(
            common + ["--out", root.appendingPathComponent("straight").path])
        #expect(straight.status == 0, "\(straight.standardError)")
        let interrupted = root.appendingPathComponent("interrupted").path
        let first = try PEFTProcess(common + ["--out", interrupted, "--stop-after", "2"])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardError.contains("stopped after step 2"))
        let second = try PEFTProcess(common + ["--out", interrupted, "--resume", interrupted])
        #expect(second.status == 0, "\(second.standardError)")
        // --stop-after 0 checkpoints the starting point: the weights before any step.
        let untrained = root.appendingPathComponent("untrained").path
        let start = try PEFTProcess(common + ["--out", untrained, "--stop-after", "0"])
        #expect(start.status == 0, "\(start.standardError)")

        let file = method == "full" ? "model.safetensors" : "adapter_model.safetensors"
        let a = try Data(contentsOf: root.appendingPathComponent("straight/adapter/\(file)"))
        let b = try Data(contentsOf: root.appendingPathComponent("interrupted/adapter/\(file)"))
        #expect(a == b, "\(method): resumed weights differ")
        let initial = try SafeTensorsFile(
            contentsOf: root.appendingPathComponent("untrained/checkpoint/adapter/\(file)"))
        let trained = try SafeTensorsFile(data: b, name: file)
        let floatTensors = initial.tensorNames.filter { initial.info($0)?.dtype == .float32 }
        #expect(!floatTensors.isEmpty)
        for name in floatTensors {
            #expect(
                try trained.floats(name) != initial.floats(name),
                "\(method): \(name) did not move from its initial value")
        }
        let state = try String(
            contentsOf: root.appendingPathComponent("interrupted/checkpoint/trainer_state.json"),
            encoding: .utf8)
        #expect(state.contains("\"step\":4"))
    }

    /// The `--json` summary of a finished run.
    static func summary(_ run: PEFTProcess) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    @Test("seconds_per_step times training steps alone: a run that trains no step reports none")
    func secondsPerStepCountsOnlyTrainingSteps() throws {
        let root = try temporaryFolder()
        let common = [
            "train", "--config", "micro", "--task", "flip", "--steps", "2", "--batch-size", "2",
            "--eval-examples", "2", "--seed", "3", "--json",
        ]
        let frozen = try PEFTProcess(
            common + ["--method", "none", "--out", root.appendingPathComponent("none").path])
        #expect(frozen.status == 0, "\(frozen.standardError)")
        #expect(try Self.summary(frozen)["seconds_per_step"] is NSNull)

        // Interrupted after its last step, then resumed: the resumed process trains nothing.
        let folder = root.appendingPathComponent("lora").path
        let first = try PEFTProcess(common + ["--out", folder, "--stop-after", "2"])
        #expect(first.status == 0, "\(first.standardError)")
        let resumed = try PEFTProcess(common + ["--out", folder, "--resume", folder])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let summary = try Self.summary(resumed)
        #expect(summary["steps"] as? Int == 2)
        #expect(summary["seconds_per_step"] is NSNull, "\(summary)")
    }

    @Test("A data file too small to hold examples out trains, and reports no evaluation loss")
    func nothingHeldOut() throws {
        let root = try temporaryFolder()
        let data = root.appendingPathComponent("data.jsonl")
        let lines = (1...5).map { #"{"prompt": "a\#($0)", "completion": "b"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: data)
        let run = try PEFTProcess([
            "train", "--config", "micro", "--data", data.path, "--steps", "1", "--batch-size", "2",
            "--out", root.appendingPathComponent("out").path, "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try Self.summary(run)["eval_loss"] is NSNull)
    }

    @Test("Without --alpha, LoRA's alpha is twice --rank; --alpha overrides it")
    func defaultAlpha() throws {
        let root = try temporaryFolder()
        let common = [
            "--config", "micro", "--task", "flip", "--steps", "1", "--batch-size", "2",
            "--eval-examples", "1",
        ]
        let runs: [(arguments: [String], adapter: String, rank: Int, alpha: Double)] = [
            (["train", "--method", "lora", "--rank", "4"], "train/adapter", 4, 8),
            (["train", "--method", "lora", "--rank", "4", "--alpha", "3"], "alpha/adapter", 4, 3),
            (["compare", "--methods", "lora", "--rank", "2"], "compare/lora/adapter", 2, 4),
            (
                ["compare", "--methods", "lora", "--rank", "2", "--alpha", "5"],
                "compare-alpha/lora/adapter", 2, 5
            ),
        ]
        for run in runs {
            let out = root.appendingPathComponent(String(run.adapter.split(separator: "/")[0])).path
            let process = try PEFTProcess(run.arguments + common + ["--out", out])
            #expect(process.status == 0, "\(run.arguments): \(process.standardError)")
            let configuration = try adapterConfiguration(root.appendingPathComponent(run.adapter))
            #expect(configuration["r"] as? Int == run.rank, "\(run.arguments)")
            #expect(configuration["lora_alpha"] as? Double == run.alpha, "\(run.arguments)")
        }
    }

    @Test("Bad training input ends in one line naming the problem")
    func errors() throws {
        let root = try temporaryFolder()
        let data = root.appendingPathComponent("data.jsonl")
        try Data("{\"prompt\": \"a\", \"completion\": \"b\"}\nnot json\n".utf8).write(to: data)
        let cases: [([String], String)] = [
            (
                ["train", "--config", "micro", "--data", data.path, "--out", root.path],
                "data.jsonl:2"
            ),
            (["train", "--config", "micro", "--task", "nope", "--out", root.path], "unknown task"),
            (["train", "--config", "huge", "--task", "flip", "--out", root.path], "--config"),
            (
                [
                    "train", "--config", "micro", "--task", "flip", "--out", root.path, "--resume",
                    root.appendingPathComponent("x").path,
                ], "no checkpoint"
            ),
        ]
        for (arguments, phrase) in cases {
            let run = try PEFTProcess(arguments)
            #expect(run.status != 0, "\(arguments) exited 0")
            #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
        }
    }
}

@Suite("peft compare")
struct CompareCommandTests {
    @Test(
        "The trade-off report runs each method in its own process and writes the table, CSV and SVG"
    )
    func report() throws {
        let folder = try temporaryFolder()
        let run = try PEFTProcess([
            "compare", "--config", "micro", "--task", "flip", "--steps", "2", "--batch-size", "2",
            "--eval-examples", "1",
            "--methods", "lora,ia3,bitfit,none", "--out", folder.path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].contains("trainable %") && lines[0].contains("gen tok/s merged"))
        #expect(
            lines.contains { $0.hasPrefix("| lora |") }
                && lines.contains { $0.hasPrefix("| none | 0 |") })
        // s/step is the training steps' time alone, so the frozen base has none.
        let cells = { (row: Substring) in
            row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let column = try #require(cells(lines[0]).firstIndex(of: "s/step"))
        let none = try #require(lines.first { $0.hasPrefix("| none |") })
        let lora = try #require(lines.first { $0.hasPrefix("| lora |") })
        #expect(cells(none)[column] == "–", "\(none)")
        #expect(Double(cells(lora)[column]).map { $0 > 0 } == true, "\(lora)")
        let csv = try String(
            contentsOf: folder.appendingPathComponent("tradeoffs.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5)
        let svg = try String(
            contentsOf: folder.appendingPathComponent("tradeoffs.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        // Every method is its own label, every axis says its unit and has ticks.
        for method in ["lora", "ia3", "bitfit", "none"] {
            #expect(svg.contains(">\(method)<"), "\(method) has no label of its own")
        }
        for unit in ["MiB (peak RSS)", "milliseconds", "KiB", "tokens / second", "100%", "10⁰"] {
            #expect(svg.contains(unit), "no '\(unit)' on an axis")
        }
    }
}
