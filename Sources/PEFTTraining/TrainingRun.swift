/// What a training loop measured, recorded as it runs: the loss curve, the time of its steps
/// alone, and the tokens they processed; prints a progress line every few steps, and measures the
/// held-out loss when due.
///
/// ```swift
/// var run = TrainingRun(label: "lora", steps: steps, heldOut: heldOut, evalEvery: 50)
/// for step in 1...steps {
///     let stepStart = run.timer.now
///     // forward, backward, optimizer step
///     run.recordStep(step, startedAt: stepStart, loss: loss.scalar, learningRate: lr, tokens: n)
///     run.evaluateIfDue(step, prepared)
/// }
/// print(run.timer.secondsPerStep ?? 0)
/// ```
public struct TrainingRun {
    /// Training and held-out loss by step; its title is the run's label until changed.
    public var curve: LossCurve
    /// The steps' time, evaluation excluded.
    public private(set) var timer = StepTimer()
    /// Tokens processed, padding excluded.
    public private(set) var tokens = 0
    private let label: String
    private let steps: Int
    private let heldOut: HeldOutSet?
    private let evalEvery: Int
    private var progress: ProgressReporter

    /// An empty record of a run of `steps` steps, printing progress under `label` and measuring
    /// the loss on `heldOut` every `evalEvery` steps and at the last (never when 0).
    public init(label: String, steps: Int, heldOut: HeldOutSet? = nil, evalEvery: Int = 0) {
        self.label = label
        self.steps = steps
        self.heldOut = heldOut
        self.evalEvery = evalEvery
        curve = LossCurve(title: label)
        progress = ProgressReporter(label: label, totalSteps: steps, every: max(1, steps / 20))
    }

    /// Records finished step `step` (1-based), which began at `start`.
    public mutating func recordStep(
        _ step: Int, startedAt start: ContinuousClock.Instant, loss: Float, learningRate: Float,
        tokens: Int
    ) {
        timer.recordStep(startedAt: start)
        self.tokens += tokens
        curve.recordTraining(step: step, loss: loss)
        progress.record(step: step, loss: loss, learningRate: learningRate, tokens: tokens)
    }

    /// Every `evalEvery` steps and at the last, measures and prints the held-out loss of
    /// `prepared`, which is left in training mode.
    public mutating func evaluateIfDue(_ step: Int, _ prepared: PreparedModel) {
        guard evalEvery > 0, step % evalEvery == 0 || step == steps,
            let loss = heldOut?.loss(of: prepared)
        else { return }
        prepared.train(true)
        curve.recordEvaluation(step: step, loss: loss)
        printToStandardError("\(label) step \(step): held-out loss \(formattedLoss(loss))")
    }
}
