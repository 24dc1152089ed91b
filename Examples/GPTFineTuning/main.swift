// Fine-tunes a GPT-2-family model on a causal-LM task with any method of the library, full
// fine-tuning or nothing at all, and reports exact-match accuracy before and after. The training
// loop is written out in `train`, as nanoGPT's train.py writes it: schedule, batch, forward, loss,
// backward, clip, step.
import ArgumentParser
import Foundation
import PEFTTraining
import PEFTTrainingOptions

struct GPTFineTuning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt-finetuning",
        abstract:
            "Fine-tune a GPT-2-family model and measure exact-match accuracy before and after.",
        discussion: """
            Without --model, a small GPT-2 (4 layers, 128 wide, byte vocabulary) is pre-trained on \
            string skills (copy, flip, caps) and cached; the fine-tuning task is a new skill, \
            "yell: abc => CBA", which it has never seen. With --data, it trains on your \
            {"prompt": ..., "completion": ...} lines instead.
            """)

    @Option(
        help:
            "A Hugging Face decoder folder, GPT-2 or Llama family (config.json, model.safetensors, tokenizer)."
    )
    var model: String?

    @Option(help: "A JSON Lines file of {\"prompt\": ..., \"completion\": ...} to train on.")
    var data: String?

    @Option(
        help:
            "Comma-separated names of the layers LoRA wraps (default: the family's, GPT-2's c_attn, Llama's q_proj,v_proj)."
    )
    var targets: String?

    @OptionGroup var options: FineTuningOptions

    mutating func run() throws {
        options.applySmokeSizes()
        var report = FineTuningReport(title: "gpt-finetuning --method \(options.method.rawValue)")
        var recipe: BaseModelRecipe<GPT2LMHeadModel> = options.smoke ? .smoke : .standard
        if let baseSteps = options.baseSteps { recipe.steps = baseSteps }

        // The base model: a Hugging Face folder, or the example's own, pre-trained once and cached.
        let (baseFolder, tokenizer) = try recipe.baseModel(
            huggingFaceFolder: model, cache: options.baseModelPath(example: "gpt"),
            summary: &report.summary
        ) { full, batches in
            try train(
                full, batches: &batches, tokenizer: ByteTokenizer(), steps: recipe.steps,
                learningRate: recipe.learningRate,
                maximumLength: recipe.configuration.maximumPositions, label: "pre-train")
        }
        // A GPT-2 or a Llama-family folder (Llama, Mistral, Qwen2, Qwen3): any decoder-only model.
        let baseFormat = options.baseFormat
        let loadBase = {
            guard
                let decoder = try LoadedModel(contentsOf: baseFolder, baseFormat: baseFormat).causal
            else {
                throw ValidationError("--model: \(baseFolder.path) is not a decoder-only model")
            }
            return decoder
        }
        let model = try loadBase()
        model.eval()
        // The model reads at most its position count: longer examples lose their end.
        let maximumLength = min(model.maximumLength, 1024)

        // The task: the user's lines, or yell on words the evaluation keeps to itself.
        let task =
            try data.map {
                try FineTuningTask(jsonLines: URL(fileURLWithPath: $0), seed: options.seed)
            }
            ?? .yell(recipe.generator, smoke: options.smoke, seed: options.seed)
        report.record(task)
        let heldOut = HeldOutSet(task.heldOut, tokenizer: tokenizer, maximumLength: maximumLength)
        report.record(before: try heldOut.measure(try PreparedModel(untouched: model)))

        // The method decides what trains and how it is saved.
        let targetNames = targets?.split(separator: ",").map(String.init)
        let calibration = Array(task.training.chunked(into: options.batchSize).prefix(4))
        let prepared = try options.prepare(model, targets: targetNames) {
            // Selective tuning ranks the weights by their Fisher information on four batches.
            try .fisherRanked(
                model, on: calibration, tokenizer: tokenizer, maximumLength: maximumLength)
        }
        report.record(prepared)

        if !prepared.trainable.isEmpty {
            var batches = ShuffledBatches(
                task.training, batchSize: options.batchSize, seed: options.seed)
            let run = try train(
                prepared, batches: &batches, tokenizer: tokenizer, steps: options.steps,
                learningRate: options.peakLearningRate, maximumLength: maximumLength,
                label: options.method.rawValue, heldOut: heldOut, evalEvery: options.evalEvery)
            report.record(run, batchSize: options.batchSize, learningRate: options.peakLearningRate)
        }
        report.record(after: try heldOut.measure(prepared))

        // Save, load onto a fresh base, and check that nothing was lost on the way.
        if options.method != .none {
            let folder = URL(fileURLWithPath: options.outputPath(example: "gpt"))
            try report.save(prepared, to: folder)
            let reloaded = try options.prepare(
                loadBase(), targets: targetNames, resumingFrom: folder)
            try report.checkReload(try heldOut.measure(reloaded, loss: false), from: folder)
        }
        print(report.rendered)
    }
}

/// Trains what `prepared` makes trainable for `steps` steps of AdamW with warmup and cosine decay,
/// clipping the gradient norm at 1; the run measures the held-out loss every `evalEvery` steps.
func train(
    _ prepared: PreparedModel, batches: inout ShuffledBatches, tokenizer: any Tokenizer, steps: Int,
    learningRate: Float, maximumLength: Int, label: String, heldOut: HeldOutSet? = nil,
    evalEvery: Int = 0
) throws -> TrainingRun {
    // The base, or the adapter around it when the method adds virtual tokens or prefixes.
    let decoder = prepared.causalLanguageModel!
    let parameters = prepared.trainable.map(\.parameter)
    let optimizer = try prepared.makeOptimizer(learningRate: learningRate, beta2: 0.99)
    let schedule = LearningRateSchedule.cosine(warmupSteps: steps / 10, totalSteps: steps)
    var run = TrainingRun(label: label, steps: steps, heldOut: heldOut, evalEvery: evalEvery)
    // The method's own per-step work: AdaLoRA's regulariser and rank allocation.
    let hook = try prepared.trainingStepHook()
    prepared.train(true)
    for step in 1...steps {
        let stepStart = run.timer.now
        // The learning rate first, as nanoGPT sets it.
        optimizer.learningRate = schedule.learningRate(atStep: step - 1, base: learningRate)
        // Rows of prompt + completion + end-of-sequence; the labels keep the completions only.
        let batch = CausalLanguageModelingBatch(
            examples: batches.next()!, tokenizer: tokenizer, maximumLength: maximumLength)
        let logits = decoder.logits(
            DecoderInputs(tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask))
        // Each position predicts the next token.
        let loss = causalLanguageModelingLoss(logits: logits, labels: batch.labels)
        (hook?.additionalLoss().map { loss + $0 } ?? loss).backward()
        clipGradientNorm(parameters, maxNorm: 1)
        optimizer.step()
        try hook?.optimizerDidStep(step - 1)
        optimizer.zeroGradients()
        run.recordStep(
            step, startedAt: stepStart, loss: loss.scalar, learningRate: optimizer.learningRate,
            tokens: batch.tokenCount)
        run.evaluateIfDue(step, prepared)
    }
    return run
}

GPTFineTuning.main()
