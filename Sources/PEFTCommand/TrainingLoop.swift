import Foundation
import PEFTDistributed
import PEFTTraining

/// `peft train`'s optimizer loop: micro-batches accumulated into one step, the gradient norm
/// clipped at 1, a cosine schedule with warmup, and checkpoints from which a resumed run reaches
/// the same weights as an uninterrupted one.
///
/// Under `mpirun` every rank draws the same global batches and computes its own rows of each; the
/// adapter's gradients are averaged across the ranks before clipping, so every rank takes the same
/// step, the one a single process would take on the whole batch.
struct TrainingLoop {
    let prepared: PreparedModel
    let tokenizer: any Tokenizer
    let optimizer: any Optimizer
    let peakLearningRate: Float
    let gradientAccumulation: Int
    let maximumLength: Int
    /// Where the run stands; saved with every checkpoint.
    private(set) var state: TrainingState
    /// The training loss of every step this process ran.
    private(set) var curve: LossCurve
    /// The steps alone: evaluation, checkpoints and speed probes between them are not training.
    private(set) var timer = StepTimer()
    /// Whether a step whose loss or gradient is not finite is skipped rather than ending the run.
    let skipsNonFiniteSteps: Bool
    /// The steps this process skipped for a non-finite loss or gradient.
    private(set) var skippedSteps = 0
    private let parameters: [Parameter]
    /// The processes training together, and what keeps their trainable parameters in step.
    let parallel: DataParallel
    var group: any ProcessGroup { parallel.group }
    private let schedule: LearningRateSchedule
    /// The method's own per-step work (AdaLoRA's regulariser and rank allocation), if any.
    private let stepHook: (any TrainingStepHook)?
    private var batches: ShuffledBatches
    /// What the last step measured, for `metrics.jsonl`; nil before the first step.
    private(set) var lastStep: StepMetrics?
    private var reporter: ProgressReporter

    /// A loop over `examples` that continues from `state`, loading the optimizer's state from
    /// `checkpoint` when resuming.
    init(
        _ prepared: PreparedModel, tokenizer: any Tokenizer, examples: [TextExample],
        state: TrainingState, totalSteps: Int, batchSize: Int, gradientAccumulation: Int,
        learningRate: Float, maximumLength: Int, resumingFrom checkpoint: URL?,
        skipsNonFiniteSteps: Bool = false, group: any ProcessGroup = SingleProcessGroup(),
        loraPlus: LoRAPlus? = nil, groupingLengths: [Int]? = nil
    ) throws {
        self.skipsNonFiniteSteps = skipsNonFiniteSteps
        self.prepared = prepared
        self.tokenizer = tokenizer
        self.state = state
        self.peakLearningRate = learningRate
        self.gradientAccumulation = gradientAccumulation
        self.maximumLength = maximumLength
        parameters = prepared.trainable.map(\.parameter)
        stepHook = try prepared.trainingStepHook()
        optimizer =
            try loraPlus.map { try prepared.makeLoRAPlusOptimizer(learningRate: learningRate, $0) }
            ?? prepared.makeOptimizer(learningRate: learningRate)
        if let checkpoint, !parameters.isEmpty {
            try optimizer.loadState(
                from: checkpoint.appendingPathComponent("optimizer.safetensors"),
                parameterNames: prepared.optimizerParameterNames)
        }
        parallel = DataParallel(group: group, parameters: parameters)
        // Equal already when every rank seeded alike; broadcast so that nothing else can differ.
        try parallel.broadcastParameters()
        schedule = .cosine(warmupSteps: max(1, totalSteps / 10), totalSteps: totalSteps)
        batches = ShuffledBatches(
            examples, batchSize: batchSize, seed: state.seed, groupingLengths: groupingLengths)
        for _ in 0..<(state.step * gradientAccumulation) { _ = batches.next() }  // already seen
        reporter = ProgressReporter(
            label: "train", totalSteps: totalSteps, every: max(1, totalSteps / 20),
            isSilent: !group.isMainProcess)
        curve = LossCurve(title: "\(state.method) training loss")
    }

    /// Whether anything trains; for `none` there is nothing to step.
    var isTraining: Bool { !parameters.isEmpty }

    /// One optimizer step over `gradientAccumulation` micro-batches, timed.
    mutating func step() throws {
        let completed = state.step
        let stepStart = timer.now
        // Dropout masks depend only on the seed, the step and the rank, so a resumed run draws the
        // same. Each rank draws its own masks over its own rows: a data-parallel run with dropout is
        // the single-process run in distribution, not bit for bit (without dropout it is the same).
        prepared.reseedDropouts(
            seed: state.seed &* 1_000_003 &+ UInt64(completed) &+ UInt64(group.rank) &* 0x9E37_79B9)
        var stepLoss: Float = 0
        var tokens = 0
        for _ in 0..<gradientAccumulation {
            let batch = batches.next()!
            let measured = prepared.measuredLoss(
                Array(batch[try group.shard(ofBatch: batch.count)]), tokenizer: tokenizer,
                maximumLength: maximumLength)
            // Each rank's mean, weighted by its share of the batch's loss terms: the ranks' average
            // gradient is then the gradient of the whole batch's mean (exactly 1 in one process).
            var weight: Float = 1
            if group.size > 1 {
                let global = try group.sum([Double(measured.lossTerms), Double(measured.tokens)])
                weight = Float(Double(group.size) * Double(measured.lossTerms) / global[0])
                tokens += Int(global[1])
            } else {
                tokens += measured.tokens
            }
            // A method's own term joins each micro-batch's loss, as PEFT adds it in forward.
            let objective = stepHook?.additionalLoss().map { measured.loss + $0 } ?? measured.loss
            let loss = objective * (weight / Float(gradientAccumulation))
            // A rank whose rows carry no loss adds nothing (its mean would be 0/0).
            guard group.size == 1 || measured.lossTerms > 0 else { continue }
            stepLoss += loss.scalar
            loss.backward()
        }
        try parallel.averageGradients()
        if group.size > 1 {
            stepLoss = Float(try group.sum([Double(stepLoss)])[0]) / Float(group.size)
        }
        let gradientNorm = clipGradientNorm(parameters, maxNorm: 1)
        // Every rank holds the same averaged loss and gradients, so every rank decides alike.
        guard stepLoss.isFinite && gradientNorm.isFinite else {
            optimizer.zeroGradients()
            guard skipsNonFiniteSteps else {
                throw CommandError(
                    "step \(completed + 1): the loss is \(stepLoss) and the gradient norm "
                        + "\(gradientNorm); the run stops before updating any weight, and the last "
                        + "checkpoint written stays as it was. Lower --lr, or pass --skip-nonfinite "
                        + "to skip such steps")
            }
            skippedSteps += 1
            timer.recordStep(startedAt: stepStart)
            lastStep = StepMetrics(
                loss: nil, learningRate: optimizer.learningRate, tokens: tokens,
                seconds: stepStart.duration(to: timer.now).seconds)
            state.step += 1
            if group.isMainProcess {
                printToStandardError(
                    "step \(state.step): skipped (loss \(stepLoss), gradient norm \(gradientNorm))")
            }
            return
        }
        optimizer.learningRate = schedule.learningRate(atStep: completed, base: peakLearningRate)
        optimizer.step()
        // After the step and before the gradients go, where PEFT calls update_and_allocate.
        try stepHook?.optimizerDidStep(completed)
        optimizer.zeroGradients()
        // Buffers of sizes this step did not reuse (other batch lengths) go back to the system.
        TensorMemoryPool.trim()
        timer.recordStep(startedAt: stepStart)
        lastStep = StepMetrics(
            loss: stepLoss, learningRate: optimizer.learningRate, tokens: tokens,
            seconds: stepStart.duration(to: timer.now).seconds)
        state.step += 1
        curve.recordTraining(step: state.step, loss: stepLoss)
        reporter.record(
            step: state.step, loss: stepLoss, learningRate: optimizer.learningRate, tokens: tokens)
    }

    /// Replaces `folder` atomically with the adapter (or the weights), the optimizer's state and
    /// the position.
    /// Under MPI only rank 0 writes; the others wait until the checkpoint is complete.
    func saveCheckpoint(to folder: URL) throws {
        defer { try? group.barrier() }
        guard group.isMainProcess else { return }
        try checkWeightsAreFinite()
        try CheckpointDirectory.replace(folder) { temporary in
            try prepared.save(to: temporary.appendingPathComponent("adapter"))
            if !parameters.isEmpty {
                try optimizer.saveState(
                    to: temporary.appendingPathComponent("optimizer.safetensors"),
                    parameterNames: prepared.optimizerParameterNames)
            }
            try state.write(to: temporary)
        }
    }

    /// Exact match on `examples`, generating up to 24 tokens; leaves the model in evaluation mode.
    /// `{"text"}` examples have no prompt to complete and are left out.
    func exactMatch(on examples: [TextExample]) throws -> ExactMatchEvaluation {
        try prepared.exactMatch(
            on: examples.filter { !$0.prompt.isEmpty }, tokenizer: tokenizer, maximumNewTokens: 24)
    }

    /// Classification accuracy on `examples`; leaves the model in evaluation mode.
    func accuracy(on examples: [TextExample]) -> ClassificationAccuracy {
        prepared.classificationAccuracy(
            on: examples, tokenizer: tokenizer, maximumLength: maximumLength)
    }

    /// Records a validation loss in the curve and the state; true when it is the best so far.
    mutating func recordValidation(loss: Float) -> Bool {
        curve.recordEvaluation(step: state.step, loss: loss)
        return state.recordValidation(loss: loss)
    }

    /// Refuses to save weights that are no longer numbers, so a checkpoint never holds them.
    func checkWeightsAreFinite() throws {
        for (name, parameter) in prepared.trainable
        where !parameter.value.storage.buffer.allSatisfy(\.isFinite) {
            throw CommandError(
                "after step \(state.step) the trainable tensor '\(name)' is not finite; nothing "
                    + "was saved, and the last checkpoint written stays as it was. Lower --lr")
        }
    }
}
