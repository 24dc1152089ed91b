// Fine-tunes a T5-family encoder-decoder on a sequence-to-sequence task with LoRA, full fine-tuning
// or nothing at all, and reports exact-match accuracy before and after. The training loop is written
// out in `train`, as nanoGPT's train.py writes it: batch, forward, loss, backward, clip, schedule, step.
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

    @Option(help: "Where the example's own base model is cached (default .peft-cache/t5-base).")
    var cache: String?

    @Option(help: "A JSON Lines file of {\"input\": ..., \"target\": ...} to train on.")
    var data: String?

    @Option(
        name: .customLong("lr"), help: "Peak learning rate (default 3e-3 for lora, 5e-4 for full).")
    var learningRate: Float?

    @Option(help: "Comma-separated names of the layers LoRA wraps.")
    var targets = "q,v"

    @Option(
        help:
            "Where the adapter (or the fully fine-tuned model) goes (default .peft-cache/t5-adapter)."
    )
    var out: String?

    @OptionGroup var options: FineTuningOptions

    mutating func run() throws {
        let start = ContinuousClock.now
        if options.smoke { (options.steps, options.batchSize, options.evalEvery) = (4, 4, 2) }
        let suffix = options.smoke ? "-smoke" : ""
        var summary = SummaryTable(title: "t5-finetuning --method \(options.method.rawValue)")
        var recipe = options.smoke ? BaseRecipe.smoke : .standard
        if let baseSteps = options.baseSteps { recipe.steps = baseSteps }

        // The base model: a Hugging Face folder, or the example's own, pre-trained once and cached.
        let tokenizer: any Tokenizer
        let baseFolder: URL
        if let model {
            baseFolder = URL(fileURLWithPath: model)
            tokenizer = try T5Tokenizer(contentsOf: baseFolder)
            summary.add("base model", baseFolder.path)
        } else {
            baseFolder = URL(fileURLWithPath: cache ?? ".peft-cache/t5-base\(suffix)")
            tokenizer = ByteTokenizer()
            if BaseRecipe.saved(in: baseFolder) == recipe {
                summary.add("base model", "\(baseFolder.path) (cached)")
            } else {
                printToStandardError(
                    "Pre-training the base model on copy, flip and caps "
                        + "for \(recipe.steps) steps; it is cached in \(baseFolder.path).")
                let base = T5ForConditionalGeneration(
                    configuration: recipe.configuration, seed: recipe.seed)
                let examples = recipe.generator.examples(
                    skills: recipe.stringSkills, count: recipe.steps * recipe.batchSize,
                    seed: recipe.seed)
                var batches = ShuffledBatches(
                    examples, batchSize: recipe.batchSize, seed: recipe.seed)
                let run = try train(
                    PreparedModel(
                        base: base, method: .full, rank: 1, alpha: 1, targets: nil, virtualTokens: 1
                    ),
                    batches: &batches, tokenizer: tokenizer, steps: recipe.steps,
                    learningRate: recipe.learningRate, heldOut: [], evalEvery: 0, label: "pre-train"
                )
                try base.save(to: baseFolder)
                try recipe.save(in: baseFolder)
                summary.add(
                    "base model",
                    "\(baseFolder.path) (pre-trained now: \(recipe.steps) steps, "
                        + "\(seconds(run.seconds)))")
            }
        }
        let loadBase = { try T5ForConditionalGeneration(contentsOf: baseFolder) }
        let model = try loadBase()
        model.eval()

        // The task: the user's lines, or yell on words the evaluation keeps to itself.
        let training: [TextExample]
        let heldOut: [TextExample]
        if let data {
            let url = URL(fileURLWithPath: data)
            (training, heldOut) = try TextExample.load(
                jsonLines: url, promptKey: "input", completionKey: "target"
            ).splitHeldOut(seed: options.seed)
            summary.add("task", url.lastPathComponent)
        } else {
            (training, heldOut) = recipe.generator.split(
                skills: [.yell], trainingCount: options.smoke ? 64 : 2000,
                heldOutCount: options.smoke ? 8 : 200, seed: options.seed)
            summary.add("task", "yell (flip, then caps), new to the base")
        }
        summary.add("examples", "\(training.count) training, \(heldOut.count) held out")
        let newTokens = heldOut.map { tokenizer.encode($0.completion).count }.max()! + 4
        func exactMatch(_ prepared: PreparedModel) -> ExactMatchEvaluation {
            prepared.train(false)
            return withoutGradients {
                ExactMatchEvaluation(heldOut) {
                    prepared.complete($0, tokenizer: tokenizer, maximumNewTokens: newTokens)
                }
            }
        }
        let untouched = try PreparedModel(
            base: model, method: .none, rank: 1, alpha: 1, targets: nil, virtualTokens: 1)
        let lossBefore = evaluationLoss(untouched, on: heldOut, tokenizer: tokenizer)
        let before = exactMatch(untouched)
        printToStandardError("Before fine-tuning: exact match \(before.formatted)")

        // The method decides what trains and how it is saved.
        let targetNames = targets.split(separator: ",").map(String.init)
        let calibrationSize = options.batchSize
        let calibration = Array(training.prefix(4 * calibrationSize))
        let prepared = try PreparedModel(
            base: model, method: options.method, rank: options.rank, alpha: options.loraAlpha,
            targets: targetNames,
            virtualTokens: options.virtualTokens
        ) {
            // Selective tuning ranks the weights by their Fisher information on a few batches.
            try ParameterSelection.ranked(
                model: model, calibrationBatches: 4, criterion: .fisher, budget: .fraction(0.01)
            ) { index in
                untouched.loss(
                    Array(calibration.dropFirst(index * calibrationSize).prefix(calibrationSize)),
                    tokenizer: tokenizer, maximumLength: 512)
            }
        }
        let trainable =
            prepared.selection?.selectedCount
            ?? prepared.trainable.reduce(0) { $0 + $1.parameter.count }
        let total =
            model.parameterCount
            + (prepared.adapter?.promptEncoders.values.reduce(0) { $0 + $1.parameterCount } ?? 0)
        summary.add(
            "trainable params",
            "\(formattedCount(trainable)) of \(formattedCount(total)) "
                + "(\(String(format: "%.2f", 100 * Double(trainable) / Double(total)))%)")

        var curve = LossCurve(title: "")
        if !prepared.trainable.isEmpty {
            let learningRate = learningRate ?? options.method.defaultLearningRate
            var batches = ShuffledBatches(
                training, batchSize: options.batchSize, seed: options.seed)
            let run = try train(
                prepared, batches: &batches, tokenizer: tokenizer, steps: options.steps,
                learningRate: learningRate, heldOut: heldOut, evalEvery: options.evalEvery,
                label: options.method.rawValue)
            curve = run.curve
            summary.add(
                "steps × batch", "\(options.steps) × \(options.batchSize), peak lr \(learningRate)")
            summary.add(
                "seconds per step", String(format: "%.3f", run.seconds / Double(options.steps)))
            summary.add("tokens per second", formattedCount(Int(Double(run.tokens) / run.seconds)))
        }
        let lossAfter = evaluationLoss(prepared, on: heldOut, tokenizer: tokenizer)
        let after = exactMatch(prepared)
        summary.add("held-out loss", String(format: "%.4f → %.4f", lossBefore, lossAfter))
        summary.add("exact match before", before.formatted)
        summary.add("exact match after", after.formatted)

        // Save, load onto a fresh base, and check that nothing was lost on the way.
        if options.method != .none {
            let name = options.method == .lora ? "adapter" : options.method.rawValue
            let folder = URL(fileURLWithPath: out ?? ".peft-cache/t5-\(name)\(suffix)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try prepared.save(to: folder)
            curve.title =
                "t5-finetuning --method \(options.method.rawValue): exact match \(after.formatted)"
            try curve.write(to: folder.appendingPathComponent("loss_curve.svg"))
            let reloaded = try PreparedModel(
                base: loadBase(), method: options.method, rank: options.rank, alpha: options.loraAlpha,
                targets: targetNames,
                virtualTokens: options.virtualTokens, resumingFrom: folder)
            let again = exactMatch(reloaded)
            guard again.outcomes.map(\.generated) == after.outcomes.map(\.generated) else {
                throw ReloadMismatch(
                    folder: folder.path, trained: after.formatted, reloaded: again.formatted)
            }
            summary.add("exact match reloaded", "\(again.formatted), identical generations")
            summary.add(
                "saved",
                "\(folder.path) (\(formattedByteCount(weightsSize(in: folder))) of weights)")
            summary.add("loss curve", folder.appendingPathComponent("loss_curve.svg").path)
        }
        if let peak = ProcessMemory.peakResidentBytes {
            summary.add("peak memory (VmHWM)", formattedByteCount(peak))
        }
        summary.add("total time", seconds((ContinuousClock.now - start).seconds))

        print("Held-out generations:")
        for (example, generated) in after.outcomes.prefix(5) {
            let verdict =
                generated == example.completion ? "ok" : "expected \(quoted(example.completion))"
            print("  \(quoted(example.prompt)) → \(quoted(generated))  \(verdict)")
        }
        print()
        print(summary.rendered)
    }
}

/// What a training run measured.
struct TrainingRun {
    var curve: LossCurve
    /// Seconds spent in training steps, evaluation excluded.
    var seconds: Double
    /// Encoder and decoder tokens processed (padding excluded).
    var tokens: Int
}

/// Trains what `prepared` makes trainable for `steps` steps of AdamW with warmup and cosine decay,
/// clipping the gradient norm at 1, and evaluates the held-out loss every `evalEvery` steps.
func train(
    _ prepared: PreparedModel, batches: inout ShuffledBatches, tokenizer: any Tokenizer, steps: Int,
    learningRate: Float, heldOut: [TextExample], evalEvery: Int, label: String
) throws -> TrainingRun {
    let parameters = prepared.trainable.map(\.parameter)
    let optimizer = try prepared.makeOptimizer(learningRate: learningRate, beta2: 0.99)
    let schedule = LearningRateSchedule.cosine(warmupSteps: steps / 10, totalSteps: steps)
    var progress = ProgressReporter(label: label, totalSteps: steps, every: max(1, steps / 20))
    var run = TrainingRun(curve: LossCurve(title: label), seconds: 0, tokens: 0)
    prepared.train(true)
    for step in 1...steps {
        let stepStart = ContinuousClock.now
        let examples = batches.next()!
        let (loss, tokens) = prepared.measuredLoss(
            examples, tokenizer: tokenizer, maximumLength: 512)
        loss.backward()
        clipGradientNorm(parameters, maxNorm: 1)
        optimizer.learningRate = schedule.learningRate(atStep: step - 1, base: learningRate)
        optimizer.step()
        optimizer.zeroGradients()
        run.seconds += (ContinuousClock.now - stepStart).seconds
        run.tokens += tokens
        run.curve.recordTraining(step: step, loss: loss.scalar)
        progress.record(
            step: step, loss: loss.scalar, learningRate: optimizer.learningRate, tokens: tokens)
        if evalEvery > 0 && !heldOut.isEmpty && (step % evalEvery == 0 || step == steps) {
            let heldOutLoss = evaluationLoss(prepared, on: heldOut, tokenizer: tokenizer)
            prepared.train(true)
            run.curve.recordEvaluation(step: step, loss: heldOutLoss)
            printToStandardError(
                "\(label) step \(step): held-out loss \(String(format: "%.4f", heldOutLoss))")
        }
    }
    prepared.train(false)
    return run
}

/// The mean loss per target token over `examples`, without gradients.
func evaluationLoss(_ prepared: PreparedModel, on examples: [TextExample], tokenizer: any Tokenizer)
    -> Float
{
    prepared.train(false)
    let startToken =
        (prepared.base as? T5ForConditionalGeneration)?.configuration.decoderStartTokenID ?? 0
    return withoutGradients {
        var total: Double = 0
        var count = 0
        for chunk in examples.chunked(into: 32) {
            let loss = prepared.loss(chunk, tokenizer: tokenizer, maximumLength: 512).scalar
            let batch = Seq2SeqBatch(
                examples: chunk, tokenizer: tokenizer, decoderStartTokenID: startToken)
            let predicted = batch.flatLabels.count { $0 != ignoredTarget }
            total += Double(loss) * Double(predicted)
            count += predicted
        }
        return Float(total / Double(max(count, 1)))
    }
}

/// The size of the weights file in a saved folder.
func weightsSize(in folder: URL) -> Int {
    [AdapterFolder.weightsFile, "model.safetensors"].compactMap { name in
        try? FileManager.default.attributesOfItem(
            atPath: folder.appendingPathComponent(name).path)[.size] as? Int
    }.reduce(0, +)
}

func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }

func quoted(_ text: String) -> String { "\"\(text)\"" }

T5FineTuning.main()
