import ArgumentParser
import Foundation
import PEFTTraining

/// `peft compare`: the trade-off report. Every method, full fine-tuning and the frozen base run on the
/// same task with the same step budget, each in its own process so peak memory is its own.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every method on one task and print the trade-off table (also CSV and SVG).")

    @Option(name: .long, help: "A Hugging Face model folder.") var model: String?
    @Option(name: .long, help: "A random GPT-2 instead of --model: micro, tiny or small.")
    var config: String?
    @Option(name: .long, help: "Use the byte tokenizer with --model.") var tokenizer: String?
    @Option(name: .long, help: "A built-in task: copy, flip, caps or yell.") var task: String?
    @Option(name: .long, help: "A JSON Lines file instead of --task.") var data: String?
    @Option(name: .long, help: "Comma-separated methods (default: all).") var methods: String?
    @Option(name: .long, help: "LoRA rank.") var rank = 8
    @Option(
        name: .long, help: "LoRA alpha; the update is scaled by alpha / rank (default: 2 × rank).")
    var alpha: Float?
    @Option(name: .long, help: "Optimizer steps per method.") var steps = 100
    @Option(
        name: .customLong("base-dtype"),
        help:
            "The frozen base's storage for every run: fp32, bf16, int8 or nf4 (methods that train the base itself are then left out)."
    )
    var baseFormat: FrozenWeightFormat = .fp32
    @Option(name: .customLong("batch-size"), help: "Examples per step.") var batchSize = 16
    @Option(name: .customLong("eval-examples"), help: "Held-out examples.") var evalExamples = 32
    @Option(name: .long, help: "Where the runs, CSV and SVG go.") var out: String
    @Option(name: .long, help: "The seed every run shares.") var seed: UInt64 = 0

    func run() throws {
        let chosen = try
            (methods?.split(separator: ",").map(String.init)
            ?? TrainingMethod.allCases.map(\.rawValue)).map {
                guard let method = TrainingMethod(rawValue: $0) else {
                    throw CommandError("--methods: unknown method '\($0)'")
                }
                return method
            }
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rows: [[String: Any]] = []
        for method in chosen {
            printToStandardError("compare: \(method.rawValue) …")
            var arguments = [
                "train", "--method", method.rawValue, "--steps", "\(steps)", "--batch-size",
                "\(batchSize)",
                "--eval-examples", "\(evalExamples)", "--seed", "\(seed)", "--rank", "\(rank)",
                "--json",
                "--out", folder.appendingPathComponent(method.rawValue).path,
            ]
            if let alpha { arguments += ["--alpha", "\(alpha)"] }
            if let model { arguments += ["--model", model] }
            if let config { arguments += ["--random-model", config] }
            if let tokenizer { arguments += ["--tokenizer", tokenizer] }
            if let task { arguments += ["--task", task] }
            if let data { arguments += ["--data", data] }
            if baseFormat != .fp32 { arguments += ["--base-dtype", baseFormat.rawValue] }
            if method == .none { arguments[arguments.firstIndex(of: "--steps")! + 1] = "1" }
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let result = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                let row = try? JSONSerialization.jsonObject(with: result) as? [String: Any]
            else {
                // By default every method runs, and some cannot take every family (OFT refuses
                // GPT-2's Conv1D, as peft does): those are left out and said so; a method named in
                // --methods must succeed.
                if methods == nil {
                    printToStandardError(
                        "compare: \(method.rawValue) left out: its run failed on this model (exit \(process.terminationStatus))"
                    )
                    continue
                }
                throw CommandError(
                    "compare: the \(method.rawValue) run failed (exit \(process.terminationStatus))"
                )
            }
            rows.append(row)
        }
        let table = TradeOffTable(rows: rows)
        print(table.markdown)
        try Data(table.csv.utf8).write(
            to: folder.appendingPathComponent("tradeoffs.csv"), options: .atomic)
        try Data(table.svg.utf8).write(
            to: folder.appendingPathComponent("tradeoffs.svg"), options: .atomic)
        printToStandardError(
            "wrote \(folder.appendingPathComponent("tradeoffs.csv").path) and tradeoffs.svg")
    }
}

/// The trade-off report's rows, as Markdown, CSV and an SVG chart.
struct TradeOffTable {
    let rows: [[String: Any]]

    static let columns: [(key: String, title: String)] = [
        ("method", "method"), ("trainable_parameters", "trainable params"),
        ("trainable_percent", "trainable %"),
        ("peak_resident_bytes", "peak RSS (MiB)"), ("seconds_per_step", "s/step"),
        ("eval_loss", "eval loss"),
        ("exact_match", "exact match"), ("adapter_bytes", "adapter size (KiB)"),
        ("tokens_per_second", "gen tok/s unmerged"),
        ("merged_tokens_per_second", "gen tok/s merged"),
    ]

    func value(_ row: [String: Any], _ key: String) -> String {
        func number(_ key: String) -> Double? { (row[key] as? NSNumber)?.doubleValue }
        switch key {
        case "method": return row["method"] as? String ?? "?"
        case "trainable_percent":
            let total = number("all_parameters") ?? 1
            return String(
                format: "%.4f", 100 * (number("trainable_parameters") ?? 0) / max(total, 1))
        case "peak_resident_bytes": return String(format: "%.0f", (number(key) ?? 0) / 1_048_576)
        case "adapter_bytes": return String(format: "%.1f", (number(key) ?? 0) / 1024)
        case "seconds_per_step", "tokens_per_second", "merged_tokens_per_second":
            return number(key).map { String(format: "%.3f", $0) } ?? "–"
        case "eval_loss": return number(key).map { String(format: "%.4f", $0) } ?? "–"
        case "exact_match": return number(key).map { String(format: "%.1f%%", 100 * $0) } ?? "–"
        default: return number(key).map { String(Int($0)) } ?? "–"
        }
    }

    var markdown: String {
        let header = "| " + Self.columns.map(\.title).joined(separator: " | ") + " |"
        let rule = "|" + Self.columns.map { _ in "---" }.joined(separator: "|") + "|"
        return
            ([header, rule]
            + rows.map { row in
                "| " + Self.columns.map { value(row, $0.key) }.joined(separator: " | ") + " |"
            })
            .joined(separator: "\n")
    }

    var csv: String {
        ([Self.columns.map(\.key).joined(separator: ",")]
            + rows.map { row in Self.columns.map { value(row, $0.key) }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    /// The chart of ``TradeOffChart``.
    var svg: String { TradeOffChart(rows: rows).svg }
}
