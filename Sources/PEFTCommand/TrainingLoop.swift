import Foundation
import PEFTTraining

/// `peft train`'s optimizer loop: micro-batches accumulated into one step, the gradient norm
/// clipped at 1, a cosine schedule with warmup, and checkpoints from which a resumed run reaches
/// the same weights as an uninterrupted one.
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
    private let parameters: [Parameter]
    private let schedule: LearningRateSchedule
    private var batches: ShuffledBatches
    private var reporter: ProgressReporter

    /// A loop over `examples` that continues from `state`, loading the optimizer's state from
    /// `checkpoint` when resuming.
    init(
        _ prepared: PreparedModel, tokenizer: any Tokenizer, examples: [TextExample],
        state: TrainingState, totalSteps: Int, batchSize: Int, gradientAccumulation: Int,
        learningRate: Float, maximumLength: Int, resumingFrom checkpoint: URL?
    ) throws {
        self.prepared = prepared
        self.tokenizer = tokenizer
        self.state = state
        self.peakLearningRate = learningRate
        self.gradientAccumulation = gradientAccumulation
        self.maximumLength = maximumLength
        parameters = prepared.trainable.map(\.parameter)
        optimizer = try prepared.makeOptimizer(learningRate: learningRate)
        if let checkpoint, !parameters.isEmpty {
            try optimizer.loadState(
                from: checkpoint.appendingPathComponent("optimizer.safetensors"),
                parameterNames: prepared.optimizerParameterNames)
        }
        schedule = .cosine(warmupSteps: max(1, totalSteps / 10), totalSteps: totalSteps)
        batches = ShuffledBatches(examples, batchSize: batchSize, seed: state.seed)
        for _ in 0..<(state.step * gradientAccumulation) { _ = batches.next() }  // already seen
        reporter = ProgressReporter(
            label: "train", totalSteps: totalSteps, every: max(1, totalSteps / 20))
        curve = LossCurve(title: "\(state.method) training loss")
    }

    /// Whether anything trains; for `none` there is nothing to step.
    var isTraining: Bool { !parameters.isEmpty }

    /// One optimizer step over `gradientAccumulation` micro-batches, timed.
    mutating func step() {
        let completed = state.step
        let stepStart = timer.now
        // Dropout masks depend only on the seed and the step, so a resumed run draws the same.
        prepared.reseedDropouts(seed: state.seed &* 1_000_003 &+ UInt64(completed))
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
        clipGradientNorm(parameters, maxNorm: 1)
        optimizer.learningRate = schedule.learningRate(atStep: completed, base: peakLearningRate)
        optimizer.step()
        optimizer.zeroGradients()
        timer.recordStep(startedAt: stepStart)
        state.step += 1
        curve.recordTraining(step: state.step, loss: stepLoss)
        reporter.record(
            step: state.step, loss: stepLoss, learningRate: optimizer.learningRate, tokens: tokens)
    }

    /// Replaces `folder` atomically with the adapter (or the weights), the optimizer's state and
    /// the position.
    func saveCheckpoint(to folder: URL) throws {
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
    func exactMatch(on examples: [TextExample]) -> ExactMatchEvaluation {
        prepared.exactMatch(on: examples, tokenizer: tokenizer, maximumNewTokens: 24)
    }

    /// Classification accuracy on `examples`; leaves the model in evaluation mode.
    func accuracy(on examples: [TextExample]) -> ClassificationAccuracy {
        prepared.classificationAccuracy(
            on: examples, tokenizer: tokenizer, maximumLength: maximumLength)
    }
}
