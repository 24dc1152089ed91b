// Fine-tunes a T5-family encoder-decoder on a sequence-to-sequence task with any method of the
// library, full fine-tuning or nothing at all, and reports exact-match accuracy before and after.
// The training loop is written out in `train`, in the order of Hugging Face's Trainer: batch,
// forward, loss, backward, clip, optimizer step, then the schedule's step.
import ArgumentParser
import Foundation
import PEFTTraining
import PEFTTrainingOptions

struct T5FineTuning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t5-finetuning",
        abstract: "Fine-tune a T5-family model and measure exact-match accuracy before and after.",
        discussion: """
            Without --model, a small T5 (2 + 2 blocks, 128 wide, byte vocabulary) is pre-trained on \
            string skills (copy, flip, caps) and cached; the fine-tuning task is a new skill, \
            "yell: abc" → "CBA", which it has never seen. With --data, it trains on your \
            {"input": ..., "target": ...} lines instead.
            """)

    @Option(
        help: "A Hugging Face T5-family folder (config.json, model.safetensors, tokenizer.json).")
    var model: String?

    @Option(help: "A JSON Lines file of {\"input\": ..., \"target\": ...} to train on.")
    var data: String?

    @Option(help: "Comma-separated names of the layers LoRA wraps.")
    var targets = "q,v"

    @OptionGroup var options: FineTuningOptions

    mutating func run() throws {
        options.applySmokeSizes()
        var report = FineTuningReport(title: "t5-finetuning --method \(options.method.rawValue)")
        var recipe: BaseModelRecipe<T5ForConditionalGeneration> =
            options.smoke ? .smoke : .standard
        if let baseSteps = options.baseSteps { recipe.steps = baseSteps }

        // The base model: a Hugging Face folder, or the example's own, pre-trained once and cached.
        let (baseFolder, tokenizer) = try recipe.baseModel(
            huggingFaceFolder: model, cache: options.baseModelPath(example: "t5"),
            summary: &report.summary
        ) { full, batches in
            try train(
                full, batches: &batches, tokenizer: ByteTokenizer(), steps: recipe.steps,
                learningRate: recipe.learningRate, label: "pre-train")
        }
        let baseFormat = options.baseFormat
        let loadBase = {
            try withFrozenWeights(baseFormat) {
                try T5ForConditionalGeneration(contentsOf: baseFolder)
            }
        }
        let model = try loadBase()
        model.eval()

        // The task: the user's {"input", "target"} lines, or yell on words kept for evaluation.
        let task =
            try data.map {
                try FineTuningTask(
                    jsonLines: URL(fileURLWithPath: $0), promptKey: "input",
                    completionKey: "target",
                    seed: options.seed)
            } ?? .yell(recipe.generator, smoke: options.smoke, seed: options.seed)
        report.record(task)
        let heldOut = HeldOutSet(
            task.heldOut, tokenizer: tokenizer, maximumLength: maximumSequenceLength)
        report.record(before: try heldOut.measure(try PreparedModel(untouched: model)))

        // The method decides what trains and how it is saved.
        let targetNames = targets.split(separator: ",").map(String.init)
        let calibration = Array(task.training.chunked(into: options.batchSize).prefix(4))
        let prepared = try options.prepare(model, targets: targetNames) {
            // Selective tuning ranks the weights by their Fisher information on four batches.
            try .fisherRanked(
                model, on: calibration, tokenizer: tokenizer, maximumLength: maximumSequenceLength)
        }
        report.record(prepared)

        if !prepared.trainable.isEmpty {
            var batches = ShuffledBatches(
                task.training, batchSize: options.batchSize, seed: options.seed)
            let run = try train(
                prepared, batches: &batches, tokenizer: tokenizer, steps: options.steps,
                learningRate: options.peakLearningRate, label: options.method.rawValue,
                heldOut: heldOut, evalEvery: options.evalEvery)
            report.record(run, batchSize: options.batchSize, learningRate: options.peakLearningRate)
        }
        report.record(after: try heldOut.measure(prepared))

        // Save, load onto a fresh base, and check that nothing was lost on the way.
        if options.method != .none {
            let folder = URL(fileURLWithPath: options.outputPath(example: "t5"))
            try report.save(prepared, to: folder)
            let reloaded = try options.prepare(
                loadBase(), targets: targetNames, resumingFrom: folder)
            try report.checkReload(try heldOut.measure(reloaded, loss: false), from: folder)
        }
        print(report.rendered)
    }
}

/// T5 has no position limit (its attention biases are relative), so inputs and targets are cut
/// at 512 tokens, the length it was pre-trained on.
let maximumSequenceLength = 512

/// Trains what `prepared` makes trainable for `steps` steps of AdamW with warmup and cosine decay,
/// clipping the gradient norm at 1; the run measures the held-out loss every `evalEvery` steps.
func train(
    _ prepared: PreparedModel, batches: inout ShuffledBatches, tokenizer: any Tokenizer, steps: Int,
    learningRate: Float, label: String, heldOut: HeldOutSet? = nil, evalEvery: Int = 0
) throws -> TrainingRun {
    // The base, or the adapter around it when the method adds virtual tokens or prefixes.
    let model = prepared.seq2SeqLanguageModel!
    let parameters = prepared.trainable.map(\.parameter)
    let optimizer = try prepared.makeOptimizer(learningRate: learningRate, beta2: 0.99)
    let schedule = LearningRateSchedule.cosine(warmupSteps: steps / 10, totalSteps: steps)
    var run = TrainingRun(label: label, steps: steps, heldOut: heldOut, evalEvery: evalEvery)
    // The method's own per-step work: AdaLoRA's regulariser and rank allocation.
    let hook = try prepared.trainingStepHook()
    prepared.train(true)
    optimizer.learningRate = schedule.learningRate(atStep: 0, base: learningRate)
    for step in 1...steps {
        let stepStart = run.timer.now
        // Inputs for the encoder; the targets, and the same shifted right behind the start token
        // for the decoder (teacher forcing).
        let batch = Seq2SeqBatch(
            examples: batches.next()!, tokenizer: tokenizer,
            decoderStartTokenID: model.decoderStartTokenID,
            maximumInputLength: maximumSequenceLength, maximumTargetLength: maximumSequenceLength)
        let encoded = model.encode(
            DecoderInputs(tokenIDs: batch.inputIDs, attentionMask: batch.attentionMask))
        let logits = model.decode(
            DecoderInputs(tokenIDs: batch.decoderInputIDs), encoderOutput: encoded,
            encoderMask: batch.attentionMask)
        let loss = crossEntropy(logits: logits, targets: batch.flatLabels)
        (hook?.additionalLoss().map { loss + $0 } ?? loss).backward()
        clipGradientNorm(parameters, maxNorm: 1)
        optimizer.step()
        try hook?.optimizerDidStep(step - 1)
        optimizer.zeroGradients()
        // The schedule steps after the optimizer, as the Trainer's lr_scheduler.step() does.
        let stepLearningRate = optimizer.learningRate
        optimizer.learningRate = schedule.learningRate(atStep: step, base: learningRate)
        // Encoder and decoder tokens both count.
        run.recordStep(
            step, startedAt: stepStart, loss: loss.scalar, learningRate: stepLearningRate,
            tokens: batch.tokenCount)
        run.evaluateIfDue(step, prepared)
    }
    return run
}

T5FineTuning.main()
