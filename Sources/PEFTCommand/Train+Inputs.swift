// What `peft train` trains on: the base model and its tokenizer, the examples, and the method
// applied to the model.
import Foundation
import PEFTTraining

extension Train {
    /// The `--model` folder with its tokenizer, or a random GPT-2 of `--config` with the byte
    /// tokenizer.
    func loadBase() throws -> (any AdaptableModel, any Tokenizer) {
        if let model {
            let folder = URL(fileURLWithPath: model)
            if let tokenizer, tokenizer != "byte" {
                throw CommandError("--tokenizer: only 'byte' can be named")
            }
            let loaded = try LoadedModel(contentsOf: folder, baseFormat: baseFormat)
            return (
                loaded.model,
                tokenizer == "byte" ? ByteTokenizer() : try modelTokenizer(for: loaded, in: folder)
            )
        }
        let random = withFrozenWeights(baseFormat) {
            GPT2LMHeadModel(configuration: randomConfiguration, seed: seed)
        }
        return (random, ByteTokenizer())
    }

    /// The random GPT-2 of `--random-model`, sized for the byte tokenizer.
    var randomConfiguration: GPT2Configuration {
        let (width, layers, heads, positions) =
            switch randomModelPreset {
            case "small": (768, 12, 12, 1024)
            case "micro": (32, 2, 2, 128)
            default: (256, 4, 4, 256)
            }
        return GPT2Configuration {
            $0.vocabularySize = ByteTokenizer().vocabularySize
            $0.maximumPositions = positions
            $0.embeddingSize = width
            $0.layerCount = layers
            $0.headCount = heads
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.bosTokenID = ByteTokenizer.endOfSequence
            $0.eosTokenID = ByteTokenizer.endOfSequence
        }
    }

    /// The training and held-out examples: a built-in `--task`, or the `--data` lines (in the
    /// format detected from the file) split as ``splitValidation(_:load:)`` splits them.
    func loadExamples(isEncoderDecoder: Bool) throws -> (
        training: [TextExample], heldOut: [TextExample]
    ) {
        if let task {
            guard let skill = StringSkill(rawValue: task) else {
                throw CommandError("--task: unknown task '\(task)' (copy, flip, caps, yell)")
            }
            let generator = StringTaskGenerator(
                lengths: 3...6, format: isEncoderDecoder ? .inputTarget : .completion)
            return generator.split(
                skills: [skill], trainingCount: 512, heldOutCount: evalExamples, seed: seed &+ 1)
        }
        func load(_ url: URL) throws -> [TextExample] {
            if !isEncoderDecoder, let chat = try chatExamples(url) { return chat }
            let (format, examples) = try TextExample.load(detectingFormatOf: url)
            if isEncoderDecoder && format == .text {
                throw CommandError(
                    "\(url.path): {\"text\"} lines have no input for an encoder-decoder; use "
                        + "{\"input\", \"target\"}")
            }
            return examples
        }
        return try splitValidation(load(URL(fileURLWithPath: data!)), load: load)
    }

    /// The method applied to `base`, or restored from the checkpoint being resumed.
    func prepare(
        _ base: some AdaptableModel, tokenizer: any Tokenizer, examples: [TextExample],
        resumingFrom checkpoint: URL?
    ) throws -> PreparedModel {
        try PreparedModel(
            base: base, method: method, rank: rank,
            alpha: alpha ?? TrainingMethod.defaultAlpha(rank: rank),
            targets: targets.map { $0.split(separator: ",").map(String.init) },
            virtualTokens: virtualTokens, taskType: isSequenceClassification ? "SEQ_CLS" : nil,
            totalSteps: steps,
            resumingFrom: checkpoint.map { $0.appendingPathComponent("adapter") }
        ) {
            // Fisher scores on four shuffled calibration batches, 1% of the weights.
            var calibration = ShuffledBatches(examples, batchSize: batchSize, seed: seed &+ 99)
            return try .fisherRanked(
                base, on: (0..<4).map { _ in calibration.next()! }, tokenizer: tokenizer,
                maximumLength: maximumLength)
        }
    }
}
