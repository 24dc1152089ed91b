import ArgumentParser
import Foundation
import PEFTTraining
import PEFTTrainingOptions

/// `peft train`: adapt a model to a dataset with one method, with atomic checkpoints that resume exactly.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model with a parameter-efficient method.",
        discussion: """
            The data is JSON Lines with {"prompt": ..., "completion": ...} objects (the loss covers the \
            completion only), or {"input": ..., "target": ...} for an encoder-decoder; --task uses a \
            built-in string task instead. Every --save-every steps, and at the end, OUT/checkpoint holds \
            the adapter, the optimizer state and the step, replaced atomically; --resume OUT continues \
            from it and reaches the same weights as an uninterrupted run with the same seed.
            """)

    @Option(name: .long, help: "A Hugging Face model folder with its tokenizer.")
    var model: String?

    @Option(
        name: .long,
        help: "A random GPT-2 with the byte tokenizer instead of --model: micro, tiny or small.")
    var config: String?

    @Option(name: .long, help: "Use the byte tokenizer with --model (for models trained on bytes).")
    var tokenizer: String?

    @Option(name: .long, help: "A JSON Lines file of training examples.")
    var data: String?

    @Option(name: .long, help: "A built-in task instead of --data: copy, flip, caps or yell.")
    var task: String?

    @Option(name: .long, help: "lora, full, prompt, ptuning, prefix, ia3, adapter, bitfit or none.")
    var method: TrainingMethod = .lora

    @Option(name: .long, help: "LoRA rank.") var rank = 8
    @Option(
        name: .long, help: "LoRA alpha; the update is scaled by alpha / rank (default: 2 × rank).")
    var alpha: Float?
    @Option(name: .long, help: "Comma-separated target module names (default: the family's).")
    var targets: String?
    @Option(
        name: .customLong("virtual-tokens"),
        help: "Virtual tokens or prefix length for prompt methods.")
    var virtualTokens = 10
    @Option(name: .long, help: "Peak learning rate (default: the method's).") var lr: Float?
    @Option(name: .long, help: "Optimizer steps.") var steps = 100
    @Option(name: .customLong("batch-size"), help: "Examples per micro-batch.") var batchSize = 8
    @Option(name: .customLong("grad-accum"), help: "Micro-batches per optimizer step.")
    var gradientAccumulation = 1
    @Option(name: .customLong("eval-every"), help: "Evaluate every N steps (0: at the end only).")
    var evalEvery = 0
    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps (0: at the end only).")
    var saveEvery = 0
    @Option(name: .customLong("max-length"), help: "Truncate examples to this many tokens.")
    var maximumLength = 128
    @Option(name: .long, help: "The output folder.") var out: String
    @Option(name: .long, help: "Continue from the checkpoint in this output folder.") var resume:
        String?
    @Option(name: .long, help: "The seed of the data order and of the initialisation.") var seed:
        UInt64 = 0
    @Option(
        name: .customLong("eval-examples"),
        help: "Held-out examples for the exact-match evaluation.")
    var evalExamples = 32
    @Option(
        name: .customLong("stop-after"),
        help: "Stop after this step, as an interrupted run would (testing).")
    var stopAfter: Int?
    @Flag(name: .long, help: "Print the summary as one JSON object.") var json = false

    func validate() throws {
        guard (model == nil) != (config == nil) else {
            throw ValidationError("give exactly one of --model and --config")
        }
        guard (data == nil) != (task == nil) else {
            throw ValidationError("give exactly one of --data and --task")
        }
        if let config, !["micro", "tiny", "small"].contains(config) {
            throw ValidationError("--config must be micro, tiny or small")
        }
        guard steps > 0, batchSize > 0, gradientAccumulation > 0, rank > 0, virtualTokens > 0,
            maximumLength > 1
        else {
            throw ValidationError(
                "--steps, --batch-size, --grad-accum, --rank, --virtual-tokens must be positive")
        }
    }

    func run() throws {
        let outputFolder = URL(fileURLWithPath: out)
        let checkpointFolder = outputFolder.appendingPathComponent("checkpoint")
        let (base, tokenizer) = try loadBase()
        let examples = try loadExamples(isEncoderDecoder: base is T5ForConditionalGeneration)
        var state = TrainingState(step: 0, seed: seed, method: method.rawValue)
        var resumeFolder: URL?
        if let resume {
            let folder = try CheckpointDirectory.latest(
                in: URL(fileURLWithPath: resume).appendingPathComponent("checkpoint"))
            state = try TrainingState.read(from: folder)
            guard state.method == method.rawValue, state.seed == seed else {
                throw CommandError(
                    "--resume: the checkpoint was made with --method \(state.method) --seed \(state.seed)"
                )
            }
            resumeFolder = folder
        }
        let prepared = try PreparedModel(
            base: base, method: method, rank: rank,
            alpha: alpha ?? TrainingMethod.defaultAlpha(rank: rank),
            targets: targets.map { $0.split(separator: ",").map(String.init) },
            virtualTokens: virtualTokens,
            resumingFrom: resumeFolder.map { $0.appendingPathComponent("adapter") }
        ) {
            // Sensitivity-ranked selection: Fisher scores on four calibration batches, 1% of the weights.
            var calibration = ShuffledBatches(
                examples.training, batchSize: batchSize, seed: seed &+ 99)
            let batches = (0..<4).map { _ in calibration.next()! }
            let probe = try PreparedModel(
                base: base, method: .none, rank: rank, alpha: 1, targets: nil,
                virtualTokens: virtualTokens)
            return try ParameterSelection.ranked(
                model: base, calibrationBatches: batches.count, criterion: .fisher,
                budget: .fraction(0.01)
            ) { index in
                probe.loss(batches[index], tokenizer: tokenizer, maximumLength: maximumLength)
            }
        }
        let trainable = prepared.trainable
        if let selection = prepared.selection {
            // Which layers the ranking (or BitFit) chose.
            printToStandardError("\(selection.report)")
        }
        let learningRate = lr ?? method.defaultLearningRate
        let optimizer = try prepared.makeOptimizer(learningRate: learningRate)
        let optimizerNames = prepared.optimizerParameterNames
        if let resumeFolder, !trainable.isEmpty {
            try optimizer.loadState(
                from: resumeFolder.appendingPathComponent("optimizer.safetensors"),
                parameterNames: optimizerNames)
        }
        let schedule = LearningRateSchedule.cosine(
            warmupSteps: max(1, steps / 10), totalSteps: steps)
        var batches = ShuffledBatches(examples.training, batchSize: batchSize, seed: seed)
        for _ in 0..<(state.step * gradientAccumulation) { _ = batches.next() }  // the batches already seen

        var reporter = ProgressReporter(
            label: "train", totalSteps: steps, every: max(1, steps / 20))
        var curve = LossCurve(title: "\(method.rawValue) training loss")
        prepared.train(true)
        while state.step < steps && !trainable.isEmpty {
            // Dropout masks depend only on the seed and the step, so a resumed run draws the same ones.
            for (index, entry) in base.namedModules().enumerated() {
                (entry.module as? Dropout)?.reseed(
                    seed &* 1_000_003 &+ UInt64(state.step) &* 7919 &+ UInt64(index))
            }
            var stepLoss: Float = 0
            var tokens = 0
            for _ in 0..<gradientAccumulation {
                let measured = prepared.measuredLoss(
                    batches.next()!, tokenizer: tokenizer, maximumLength: maximumLength)
                let loss = measured.loss * (1 / Float(gradientAccumulation))
                stepLoss += loss.scalar
                tokens += measured.tokens
                loss.backward()
            }
            clipGradientNorm(trainable.map(\.parameter), maxNorm: 1)
            optimizer.learningRate = schedule.learningRate(atStep: state.step, base: learningRate)
            optimizer.step()
            optimizer.zeroGradients()
            state.step += 1
            curve.recordTraining(step: state.step, loss: stepLoss)
            reporter.record(
                step: state.step, loss: stepLoss, learningRate: optimizer.learningRate,
                tokens: tokens)
            if evalEvery > 0 && state.step % evalEvery == 0 {
                let evaluation = evaluate(prepared, examples.heldOut, tokenizer)
                printToStandardError("eval step \(state.step): exact match \(evaluation.formatted)")
                prepared.train(true)
            }
            if saveEvery > 0 && state.step % saveEvery == 0 && state.step < steps {
                try saveCheckpoint(prepared, optimizer, trainable, state, to: checkpointFolder)
            }
            if let stopAfter, state.step >= stopAfter {
                try saveCheckpoint(prepared, optimizer, trainable, state, to: checkpointFolder)
                printToStandardError(
                    "stopped after step \(state.step); resume with --resume \(out)")
                return
            }
        }
        try saveCheckpoint(prepared, optimizer, trainable, state, to: checkpointFolder)
        try prepared.save(to: outputFolder.appendingPathComponent("adapter"))
        try curve.write(to: outputFolder.appendingPathComponent("loss_curve.svg"))
        let evaluation = evaluate(prepared, examples.heldOut, tokenizer)
        let evaluationLoss = withoutGradients {
            prepared.loss(examples.heldOut, tokenizer: tokenizer, maximumLength: maximumLength)
                .scalar
        }
        let speed = try inferenceSpeed(
            prepared, tokenizer: tokenizer, prompt: examples.heldOut.first?.prompt ?? "a")
        let summary: [String: Any] = [
            "eval_loss": Double(evaluationLoss), "tokens_per_second": speed.unmerged,
            "merged_tokens_per_second": speed.merged ?? NSNull(),
            "method": method.rawValue, "steps": state.step,
            "trainable_parameters": prepared.selection?.selectedCount
                ?? trainable.reduce(0) { $0 + $1.parameter.count },
            "all_parameters": base.parameterCount
                + (prepared.adapter?.promptEncoders.values.reduce(0) { $0 + $1.parameterCount } ?? 0),
            "seconds_per_step": reporter.elapsedSeconds
                / Double(max(1, steps - (resumeFolder == nil ? 0 : 0))),
            "final_loss": curve.training.last.map { Double($0.loss) } ?? NSNull(),
            "exact_match": evaluation.accuracy,
            "peak_resident_bytes": ProcessMemory.peakResidentBytes ?? 0,
            "adapter_bytes": folderSize(outputFolder.appendingPathComponent("adapter")),
        ]
        if json {
            print(
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
        } else {
            for key in summary.keys.sorted() { print("\(key): \(summary[key]!)") }
        }
    }

    /// Generation speed in tokens per second, unmerged and, for methods that merge, merged.
    func inferenceSpeed(_ prepared: PreparedModel, tokenizer: any Tokenizer, prompt: String) throws
        -> (unmerged: Double, merged: Double?)
    {
        prepared.train(false)
        func measure() -> Double {
            var options = GenerationOptions(maximumNewTokens: 16)
            options.stopTokenIDs = []
            let ids = Array(tokenizer.encode(prompt).prefix(32))
            let start = ContinuousClock.now
            let count: Int
            if prepared.base is any CausalLanguageModel,
                let decoder: any CausalLanguageModel = prepared.adapter
                    ?? (prepared.base as? any CausalLanguageModel)
            {
                count = decoder.generate(prompt: ids, options: options).count
            } else {
                let model: any Seq2SeqLanguageModel =
                    prepared.adapter ?? (prepared.base as! any Seq2SeqLanguageModel)
                count =
                    model.generate(input: DecoderInputs(tokenIDs: [ids]), options: options).count
            }
            return Double(count) / max((ContinuousClock.now - start).seconds, 1e-9)
        }
        _ = measure()
        let unmerged = measure()
        guard let adapter = prepared.adapter, [.lora, .ia3].contains(method) else {
            return (unmerged, nil)
        }
        try adapter.merge()
        defer { adapter.unmerge() }
        return (unmerged, measure())
    }

    func loadBase() throws -> (Module, any Tokenizer) {
        if let model {
            let folder = URL(fileURLWithPath: model)
            if let tokenizer, tokenizer != "byte" {
                throw CommandError("--tokenizer: only 'byte' can be named")
            }
            switch try LoadedModel(contentsOf: folder) {
            case .gpt2(let gpt2):
                return (
                    gpt2,
                    tokenizer == "byte" ? ByteTokenizer() : try GPT2Tokenizer(contentsOf: folder)
                )
            case .t5(let t5):
                return (
                    t5, tokenizer == "byte" ? ByteTokenizer() : try T5Tokenizer(contentsOf: folder)
                )
            }
        }
        let (width, layers, heads, positions) =
            switch config {
            case "small": (768, 12, 12, 1024)
            case "micro": (32, 2, 2, 128)
            default: (256, 4, 4, 256)
            }
        let configuration = GPT2Configuration {
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
        return (GPT2LMHeadModel(configuration: configuration, seed: seed), ByteTokenizer())
    }

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
        let url = URL(fileURLWithPath: data!)
        let all =
            isEncoderDecoder
            ? try TextExample.load(jsonLines: url, promptKey: "input", completionKey: "target")
            : try TextExample.load(jsonLines: url)
        guard !all.isEmpty else { throw CommandError("--data: \(url.path) holds no examples") }
        let heldOut = min(evalExamples, all.count / 10)
        return (Array(all.dropLast(heldOut)), Array(all.suffix(heldOut)))
    }

    func evaluate(_ prepared: PreparedModel, _ examples: [TextExample], _ tokenizer: any Tokenizer)
        -> ExactMatchEvaluation
    {
        prepared.train(false)
        return withoutGradients {
            ExactMatchEvaluation(examples) { prompt in
                prepared.complete(prompt, tokenizer: tokenizer, maximumNewTokens: 24)
            }
        }
    }

    func saveCheckpoint(
        _ prepared: PreparedModel, _ optimizer: any Optimizer,
        _ trainable: [(name: String, parameter: Parameter)],
        _ state: TrainingState, to folder: URL
    ) throws {
        try CheckpointDirectory.replace(folder) { temporary in
            try prepared.save(to: temporary.appendingPathComponent("adapter"))
            if !trainable.isEmpty {
                try optimizer.saveState(
                    to: temporary.appendingPathComponent("optimizer.safetensors"),
                    parameterNames: prepared.optimizerParameterNames)
            }
            try state.write(to: temporary)
        }
    }
}

/// The position of a training run, saved with every checkpoint.
struct TrainingState: Codable {
    var step: Int
    var seed: UInt64
    var method: String

    static let fileName = "trainer_state.json"

    static func read(from folder: URL) throws -> TrainingState {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CommandError("--resume: \(url.path) is missing")
        }
        do { return try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw CommandError("--resume: \(url.path) is not a training state (\(error))")
        }
    }

    func write(to folder: URL) throws {
        try JSONEncoder().encode(self).write(
            to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}

/// A checkpoint folder replaced as a whole: written beside the old one, then swapped in by renames, so
/// an interruption leaves either the old checkpoint or the new one, never a mixture.
enum CheckpointDirectory {
    static func replace(_ folder: URL, write: (URL) throws -> Void) throws {
        let manager = FileManager.default
        let temporary = folder.deletingLastPathComponent().appendingPathComponent(
            ".\(folder.lastPathComponent).new")
        let previous = folder.deletingLastPathComponent().appendingPathComponent(
            ".\(folder.lastPathComponent).old")
        try? manager.removeItem(at: temporary)
        try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
        try write(temporary)
        try? manager.removeItem(at: previous)
        if manager.fileExists(atPath: folder.path) {
            try manager.moveItem(at: folder, to: previous)
        }
        try manager.moveItem(at: temporary, to: folder)
        try? manager.removeItem(at: previous)
    }

    /// The checkpoint to resume from: the folder, or the previous one if a swap was interrupted.
    static func latest(in folder: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: folder.path) { return folder }
        let previous = folder.deletingLastPathComponent().appendingPathComponent(
            ".\(folder.lastPathComponent).old")
        if FileManager.default.fileExists(atPath: previous.path) { return previous }
        throw CommandError("--resume: no checkpoint at \(folder.path)")
    }
}

/// The total size of the files in a folder.
func folderSize(_ folder: URL) -> Int {
    let files =
        (try? FileManager.default.contentsOfDirectory(
            at: folder, includingPropertiesForKeys: [.fileSizeKey])) ?? []
    return files.reduce(0) {
        $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
    }
}
