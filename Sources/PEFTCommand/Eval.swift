import ArgumentParser
import Foundation
import PEFTTraining

/// `peft eval`: a model's loss, perplexity and exact match of generations on a data file (with an
/// adapter, when given), or its accuracy as a sequence classifier.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model (and an adapter) on a JSON Lines data file.",
        discussion: """
            The data's format is detected as peft train detects it ({"text"}, {"prompt", \
            "completion"}, {"input", "target"}). Loss is the mean per predicted token and \
            perplexity its exponential; exact match compares greedy generations with the \
            completions (not for {"text"} lines, which have no prompt). With --task-type seq-cls \
            the lines are {"text", "label"} and the adapter's classification head is measured: \
            accuracy and loss.
            """)

    @Option(name: .long, help: "A Hugging Face model folder with its tokenizer.")
    var model: String

    @Option(name: .long, help: "An adapter folder (or peft train's OUT/adapter or OUT/best).")
    var adapter: String?

    @Option(name: .long, help: "A JSON Lines file of examples.")
    var data: String

    @Option(name: .customLong("task-type"), help: "seq-cls: measure a sequence classifier.")
    var taskType: String?

    @Option(name: .long, help: "Use the byte tokenizer (for models trained on bytes).")
    var tokenizer: String?

    @Option(name: .customLong("max-length"), help: "Truncate examples to this many tokens.")
    var maximumLength = 512

    @Option(name: .customLong("max-tokens"), help: "The most tokens generated per prompt.")
    var maximumTokens = 32

    @Option(
        name: .customLong("exact-match-examples"),
        help: "Examples generated for exact match (0: none).")
    var exactMatchExamples = 256

    @Flag(name: .long, help: "Print the results as one JSON object.") var json = false

    func validate() throws {
        if let taskType, taskType != "seq-cls" {
            throw ValidationError("--task-type: only seq-cls is supported, got '\(taskType)'")
        }
        if let tokenizer, tokenizer != "byte" {
            throw ValidationError("--tokenizer: only 'byte' can be named")
        }
        guard maximumLength > 1, maximumTokens > 0, exactMatchExamples >= 0 else {
            throw ValidationError(
                "--max-length must be > 1, --max-tokens positive, --exact-match-examples ≥ 0")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: model)
        let dataURL = URL(fileURLWithPath: data)
        var results: [(String, Any)] = []
        if taskType == "seq-cls" {
            let dataset = try ClassificationDataset.load(jsonLines: dataURL)
            var options = try Train.parse(["--model", model, "--data", data, "--out", "."])
            options.taskType = taskType
            options.tokenizer = tokenizer
            let (base, tokenizer) = try options.loadClassifier(labelCount: dataset.labelCount)
            let prepared = try prepare(base)
            let accuracy = prepared.classificationAccuracy(
                on: dataset.examples, tokenizer: tokenizer, maximumLength: maximumLength)
            results = [
                ("examples", dataset.examples.count), ("accuracy", accuracy.accuracy),
                ("loss", accuracy.meanLoss.map { Double($0) } ?? NSNull()),
            ]
        } else {
            let loaded = try LoadedModel(contentsOf: folder)
            let tokenizer: any Tokenizer =
                tokenizer == "byte" ? ByteTokenizer() : try modelTokenizer(for: loaded, in: folder)
            let (format, examples) = try TextExample.load(detectingFormatOf: dataURL)
            let prepared = try prepare(loaded.model)
            let loss = prepared.heldOutLoss(
                on: examples, tokenizer: tokenizer, maximumLength: maximumLength)
            results = [
                ("examples", examples.count), ("format", format.rawValue),
                ("loss", loss.map { Double($0) } ?? NSNull()),
                ("perplexity", loss.map { Double(exp($0)) } ?? NSNull()),
            ]
            if format != .text && exactMatchExamples > 0 {
                let generated = Array(examples.prefix(exactMatchExamples))
                let match = try prepared.exactMatch(
                    on: generated, tokenizer: tokenizer, maximumNewTokens: maximumTokens)
                results += [
                    ("exact_match", match.accuracy), ("exact_match_examples", generated.count),
                ]
            }
        }
        print(try Self.text(results, json: json))
    }

    /// `base` with the adapter loaded, or alone, in evaluation mode.
    private func prepare(_ base: some AdaptableModel) throws -> PreparedModel {
        // Any adapter method stands for "load the folder's adapter, whatever its type".
        let prepared = try PreparedModel(
            base: base, method: adapter == nil ? .none : .lora, rank: 1, alpha: 1, targets: nil,
            virtualTokens: 1, taskType: taskType == nil ? nil : "SEQ_CLS",
            resumingFrom: adapter.map { URL(fileURLWithPath: $0) })
        prepared.train(false)
        return prepared
    }

    /// The results as a two-column table, or one JSON object.
    static func text(_ results: [(String, Any)], json: Bool) throws -> String {
        if json {
            let object = Dictionary(
                uniqueKeysWithValues: results.map { key, value -> (String, Any) in
                    if let number = value as? Double, !number.isFinite { return (key, NSNull()) }
                    return (key, value)
                })
            return String(
                decoding: try JSONSerialization.data(
                    withJSONObject: object, options: [.sortedKeys]),
                as: UTF8.self)
        }
        let width = results.map(\.0.count).max() ?? 0
        return results.map { key, value in
            let shown: String =
                switch value {
                case let number as Double: String(format: "%.4f", number)
                case is NSNull: "-"
                default: "\(value)"
                }
            return key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + shown
        }.joined(separator: "\n")
    }
}
