import Foundation

/// Prints a progress line every few training steps to standard error: step, loss, learning rate,
/// tokens per second and the estimated time left.
///
/// ```swift
/// var progress = ProgressReporter(label: "lora", totalSteps: 300, every: 25)
/// progress.record(step: step, loss: loss.scalar, learningRate: optimizer.learningRate,
///                 tokens: batch.tokenCount)
/// // lora step  25/300  loss 1.2345  lr 3.00e-03  12,345 tok/s  ETA 0:21
/// ```
public struct ProgressReporter {
    /// The name printed at the start of each line.
    public var label: String
    /// The step the run ends at.
    public var totalSteps: Int
    /// Print every this many steps (and at the last step).
    public var every: Int
    /// Whether lines are counted but not printed (every rank but the first of a data-parallel run).
    public var isSilent: Bool
    private let start = ContinuousClock.now
    private var intervalStart = ContinuousClock.now
    private var intervalTokens = 0
    private var intervalLoss: Double = 0
    private var intervalSteps = 0
    private var recordedSteps = 0

    /// A reporter for a run of `totalSteps` steps, printing every `every` steps unless `isSilent`.
    public init(label: String, totalSteps: Int, every: Int, isSilent: Bool = false) {
        self.label = label
        self.totalSteps = totalSteps
        self.every = max(1, every)
        self.isSilent = isSilent
    }

    /// Counts one finished step (1-based) and prints when it is due; the loss shown is the mean
    /// since the last line.
    public mutating func record(step: Int, loss: Float, learningRate: Float, tokens: Int) {
        intervalTokens += tokens
        intervalLoss += Double(loss)
        intervalSteps += 1
        recordedSteps += 1
        guard !isSilent, step % every == 0 || step == totalSteps else { return }
        let now = ContinuousClock.now
        let intervalSeconds = (now - intervalStart).seconds
        // Per step recorded here, not per `step`: a resumed run starts counting past 1.
        let secondsPerStep = (now - start).seconds / Double(recordedSteps)
        let remaining = secondsPerStep * Double(totalSteps - step)
        let width = String(totalSteps).count
        printToStandardError(
            "\(label) step \(pad(String(step), width))/\(totalSteps)"
                + "  loss \(String(format: "%.4f", intervalLoss / Double(intervalSteps)))"
                + "  lr \(String(format: "%.2e", learningRate))"
                + "  \(Int(Double(intervalTokens) / max(intervalSeconds, 1e-9))) tok/s"
                + "  ETA \(Self.clock(remaining))")
        intervalStart = now
        intervalTokens = 0
        intervalLoss = 0
        intervalSteps = 0
    }

    /// `m:ss` for a number of seconds.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return "\(whole / 60):\(pad(String(whole % 60), 2, with: "0"))"
    }
}

private func pad(_ text: String, _ width: Int, with filler: Character = " ") -> String {
    String(repeating: filler, count: max(0, width - text.count)) + text
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
