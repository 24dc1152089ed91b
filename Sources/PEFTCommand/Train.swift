import ArgumentParser
import Foundation
import PEFTDistributed
import PEFTTraining
import PEFTTrainingOptions

/// `peft train`: adapt a model to a dataset with one method, with atomic checkpoints that resume exactly.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model with a parameter-efficient method.",
        discussion: """
            The data is JSON Lines, its format detected per file: {"text": ...} (the loss covers \
            every token), {"prompt": ..., "completion": ...} (the loss covers the completion only), \
            or {"input": ..., "target": ...} for an encoder-decoder; --task uses a built-in string \
            task instead. -c FILE reads the options from a YAML file (keys are the long option \
            names, batch-size or batch_size); options given on the command line override it. \
            Every step appends a line to OUT/metrics.jsonl; with --val-data or --val-fraction, \
            every --eval-every steps also measures the validation loss and keeps the best adapter \
            in OUT/best. With --task-type seq-cls the lines are {"text": ..., "label": ...} (an \
            integer class index, or a string mapped through the sorted set of names), the model \
            gets a classification head with one class per label, and the held-out split reports \
            accuracy. Every --save-every steps, and at the end, OUT/checkpoint holds \
            the adapter, the optimizer state and the step, replaced atomically; --resume OUT continues \
            from it and reaches the same weights as an uninterrupted run with the same seed. The \
            summary's seconds_per_step times the training steps this process ran, and nothing else \
            (not evaluation, checkpoints or the speed probe).

            Under Open MPI's mpirun (mpirun -np N peft train ...) the run is data-parallel: \
            --batch-size stays the global batch (N must divide it), each rank computes its share, \
            only the trainable parameters' gradients are averaged across ranks, and rank 0 alone \
            prints and writes; the result equals a single-process run with the same arguments.
            """)

    @Option(name: .long, help: "A Hugging Face model folder with its tokenizer.")
    var model: String?
    @Option(
        name: .customLong("base-dtype"),
        help:
            "How the frozen base's weight matrices are stored: fp32, bf16, int8 (per-channel absmax) or nf4 (QLoRA's 4-bit NormalFloat). Adapters, norms, biases and optimizer state stay fp32."
    )
    var baseFormat: FrozenWeightFormat = .fp32

    @Option(
        name: .customLong("random-model"),
        help: "A random GPT-2 with the byte tokenizer instead of --model: micro, tiny or small.")
    var randomModel: String?

    @Option(
        name: .long,
        help:
            "Deprecated alias of --random-model (micro, tiny or small); any other value is a -c file."
    )
    var config: String?

    @Option(
        name: [.customShort("c"), .customLong("config-file")],
        help: "A YAML file of these options (keys: the long names); the command line overrides it.")
    var configurationFile: String?

    @Option(name: .long, help: "Use the byte tokenizer with --model (for models trained on bytes).")
    var tokenizer: String?

    @Option(name: .long, help: "A JSON Lines file of training examples.")
    var data: String?
    @Option(
        name: .customLong("val-data"), help: "A JSON Lines file of validation examples.")
    var validationData: String?
    @Option(
        name: .customLong("val-fraction"),
        help: "Hold out this fraction of --data's last lines for validation instead.")
    var validationFraction: Double?
    @Option(
        name: .customLong("early-stopping-patience"),
        help: "Stop after N evaluations without a better validation loss.")
    var earlyStoppingPatience: Int?
    @Flag(
        name: .customLong("group-by-length"),
        inversion: .prefixedNo, exclusivity: .chooseLast,
        help:
            "Batch examples of similar length (sorted within shuffled mega-batches): less padding.")
    var groupsByLength = false

    @Option(name: .long, help: "A built-in task instead of --data: copy, flip, caps or yell.")
    var task: String?

    @Option(
        name: .customLong("task-type"),
        help: "seq-cls: train a sequence classifier on --data's {text, label} lines.")
    var taskType: String?

    @Option(
        name: .long,
        help:
            "lora, full, prompt, ptuning, prefix, ia3, adapter, vera, oft, loha, lokr, adalora, bitfit, selective or none."
    )
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
    @Option(
        name: .customLong("batch-size"),
        help: "Examples per micro-batch, over all ranks when run under mpirun.")
    var batchSize = 8
    @Option(name: .customLong("grad-accum"), help: "Micro-batches per optimizer step.")
    var gradientAccumulation = 1
    @Option(
        name: .customLong("eval-every"),
        help:
            "Evaluate (validation loss, best checkpoint in OUT/best) every N steps (0: at the end only)."
    )
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
        help: "Stop after this step, as an interrupted run would; 0 keeps the start (testing).")
    var stopAfter: Int?
    @Flag(
        name: .long, inversion: .prefixedNo, exclusivity: .chooseLast,
        help: "Print the summary as one JSON object.")
    var json = false
    @Flag(
        name: .customLong("skip-nonfinite"),
        inversion: .prefixedNo, exclusivity: .chooseLast,
        help:
            "Skip a step whose loss or gradient is not finite (counted in the summary) instead of stopping the run."
    )
    var skipsNonFiniteSteps = false
    @Option(
        name: .customLong("loraplus-ratio"),
        help: "LoRA+: train lora_B at this multiple of the learning rate (--method lora).")
    var loraPlusRatio: Float?
    @Option(
        name: .customLong("loraplus-lr-embedding"),
        help: "LoRA+: the learning rate of embedding LoRA factors.")
    var loraPlusEmbeddingLearningRate: Float = 1e-6
    @Option(
        name: .customLong("loraplus-weight-decay"),
        help: "LoRA+: the weight decay of every group but B's biases and norms.")
    var loraPlusWeightDecay: Float = 0
    @Flag(
        name: .customLong("train-on-inputs"),
        inversion: .prefixedNo, exclusivity: .chooseLast,
        help: "Chat data: take the loss on every token, not only the assistant turns.")
    var trainOnInputs = false
    @Flag(
        name: .customLong("pack"), inversion: .prefixedNo, exclusivity: .chooseLast,
        help:
            "Pack several examples into each row of up to --max-length tokens (kept apart in attention, positions restarting at each): less padding. --batch-size then counts rows."
    )
    var packs = false
    @Flag(
        name: .customLong("gradient-checkpointing"), inversion: .prefixedNo,
        exclusivity: .chooseLast,
        help:
            "Recompute each decoder block's activations in backward instead of keeping them: less memory for about one more forward pass (GPT-2 and Llama-family models)."
    )
    var checkpointsGradients = false

    func validate() throws {
        try validateAdditions()
        try validatePacking()
        try validateBaseFormat()
        guard (model == nil) != (randomModelPreset == nil) else {
            throw ValidationError("give exactly one of --model and --random-model")
        }
        guard (data == nil) != (task == nil) else {
            throw ValidationError("give exactly one of --data and --task")
        }
        if let taskType {
            guard taskType == "seq-cls" else {
                throw ValidationError("--task-type: only seq-cls is supported, got '\(taskType)'")
            }
            guard task == nil else {
                throw ValidationError("--task-type seq-cls needs --data, not --task")
            }
            guard Self.sequenceClassificationMethods.contains(method) else {
                throw ValidationError(
                    "--task-type seq-cls trains an adapter: --method must be one of "
                        + Self.sequenceClassificationMethods.map(\.rawValue).joined(separator: ", ")
                )
            }
        }
        if let loraPlusRatio {
            guard method == .lora else {
                throw ValidationError("--loraplus-ratio needs --method lora")
            }
            for (option, value) in [
                ("--loraplus-ratio", loraPlusRatio),
                ("--loraplus-lr-embedding", loraPlusEmbeddingLearningRate),
                ("--loraplus-weight-decay", loraPlusWeightDecay),
            ] where !(value >= 0 && value.isFinite) {
                throw ValidationError("\(option): \(value) is not a finite number >= 0")
            }
        }
        guard steps > 0, batchSize > 0, gradientAccumulation > 0, rank > 0, virtualTokens > 0,
            maximumLength > 1
        else {
            throw ValidationError(
                "--steps, --batch-size, --grad-accum, --rank, --virtual-tokens must be positive")
        }
        // 0 is allowed: a run that measures the starting point without moving it.
        if let lr, !(lr.isFinite && lr >= 0) {
            throw ValidationError("--lr must be a finite number ≥ 0, got \(lr)")
        }
        if let alpha, !alpha.isFinite {
            throw ValidationError("--alpha must be a finite number, got \(alpha)")
        }
    }

    func run() throws {
        let group = try ProcessGroups.current()
        do {
            try train(in: group)
            try group.finish()
        } catch let error where group.size > 1 {
            // One rank failing alone would leave the others blocked in a collective call for ever.
            printToStandardError("rank \(group.rank): " + Self.fullMessage(for: error))
            (group as? MPIProcessGroup)?.abort(code: 1)
            throw error
        }
    }

    private func train(in group: any ProcessGroup) throws {
        _ = try group.shard(ofBatch: batchSize)
        noteDeprecatedOptions(in: group)
        let outputFolder = URL(fileURLWithPath: out)
        let checkpointFolder = outputFolder.appendingPathComponent("checkpoint")
        let classification = isSequenceClassification ? try loadClassificationExamples() : nil
        let (base, tokenizer) =
            try classification.map { try loadClassifier(labelCount: $0.labelCount) }
            ?? loadBase()
        let examples =
            try classification.map { (training: $0.training, heldOut: $0.heldOut) }
            ?? loadExamples(isEncoderDecoder: base is T5ForConditionalGeneration)
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
        let prepared = try prepare(
            base, tokenizer: tokenizer, examples: examples.training, resumingFrom: resumeFolder)
        try useGradientCheckpointing(in: prepared)
        try checkLengths(of: examples, fit: prepared, tokenizer: tokenizer)
        let lengths = prepared.untruncatedLengths(of: examples.training, tokenizer: tokenizer)
        let packing = try packedTraining(examples.training, tokenizer: tokenizer, base: base)
        if let packing, group.isMainProcess { printToStandardError(packing.description) }
        if let selection = prepared.selection, group.isMainProcess {
            // Which layers the ranking (or BitFit) chose.
            printToStandardError("\(selection.report)")
        }
        var loop = try TrainingLoop(
            prepared, tokenizer: tokenizer, examples: packing?.rows ?? examples.training,
            state: state,
            totalSteps: steps, batchSize: batchSize, gradientAccumulation: gradientAccumulation,
            learningRate: lr ?? method.defaultLearningRate, maximumLength: maximumLength,
            resumingFrom: resumeFolder, skipsNonFiniteSteps: skipsNonFiniteSteps, group: group,
            loraPlus: loraPlusRatio.map {
                LoRAPlus(
                    ratio: $0, embeddingLearningRate: loraPlusEmbeddingLearningRate,
                    weightDecay: loraPlusWeightDecay)
            }, groupingLengths: groupsByLength ? lengths : nil)
        let monitor = try ValidationMonitor(
            examples: examples.heldOut, bestFolder: outputFolder.appendingPathComponent("best"),
            patience: earlyStoppingPatience,
            metrics: try MetricsFile(
                in: outputFolder, resumedStep: resumeFolder.map { _ in state.step },
                writes: group.isMainProcess),
            resuming: resumeFolder != nil || !group.isMainProcess)
        prepared.train(true)
        TensorMemoryPool.resetPeak()
        while loop.isTraining {
            // Checked before each step, so --stop-after 0 keeps the untrained starting point.
            if let stopAfter, loop.state.step >= stopAfter {
                try loop.saveCheckpoint(to: checkpointFolder)
                guard group.isMainProcess else { return }
                printToStandardError(
                    "stopped after step \(loop.state.step); resume with --resume \(out)")
                return
            }
            guard loop.state.step < steps else { break }
            try loop.step()
            let step = loop.state.step
            let stopsEarly = try monitor.afterStep(
                &loop, evaluating: evalEvery > 0 && step % evalEvery == 0)
            if evalEvery > 0 && step % evalEvery == 0 && group.isMainProcess {
                if prepared.isClassifier {
                    let evaluation = loop.accuracy(on: examples.heldOut)
                    printToStandardError("eval step \(step): accuracy \(evaluation.formatted)")
                } else {
                    let evaluation = try loop.exactMatch(
                        on: Array(examples.heldOut.prefix(evalExamples)))
                    printToStandardError("eval step \(step): exact match \(evaluation.formatted)")
                }
                prepared.train(true)
            }
            if saveEvery > 0 && step % saveEvery == 0 && step < steps {
                try loop.saveCheckpoint(to: checkpointFolder)
            }
            if stopsEarly { break }
        }
        let trainingMemory = TrainingMemory(
            prepared, peakTensorBytes: TensorMemoryPool.peakLiveBytes,
            pooledBytes: TensorMemoryPool.heldBytes,
            peakResidentBytes: ProcessMemory.peakResidentBytes ?? 0)
        // Evaluation and the speed probe make tensors of other sizes than training's.
        TensorMemoryPool.drain()
        try loop.saveCheckpoint(to: checkpointFolder)
        guard group.isMainProcess else { return }
        let adapterFolder = outputFolder.appendingPathComponent("adapter")
        try prepared.save(to: adapterFolder)
        try loop.curve.write(to: outputFolder.appendingPathComponent(LossCurve.fileName))
        var summary = try TrainingSummary(
            loop, heldOut: examples.heldOut, adapterFolder: adapterFolder,
            exactMatchLimit: evalExamples)
        summary.addValidation(
            loop, truncatedExamples: lengths.count { $0 > maximumLength },
            bestFolder: monitor.bestFolder)
        if let packing { summary.addPacking(packing) }
        summary.addMemory(trainingMemory)
        print(try summary.text(json: json))
    }
}
