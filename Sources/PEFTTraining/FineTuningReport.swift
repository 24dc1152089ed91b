import Foundation

/// What a fine-tuning example measures, recorded as it happens, and what it prints at the end: a
/// few held-out generations and a summary table.
///
/// ```swift
/// var report = FineTuningReport(title: "gpt-finetuning --method lora")
/// report.record(task)
/// report.record(before: heldOut.measure(untouched))
/// report.record(prepared)
/// report.record(run, batchSize: 16, learningRate: 3e-3)
/// report.record(after: heldOut.measure(prepared))
/// try report.save(prepared, to: folder)
/// try report.checkReload(heldOut.measure(reloaded, loss: false), from: folder)
/// print(report.rendered)
/// ```
public struct FineTuningReport {
    /// The rows so far; add any with `summary.add(_:_:)`.
    public var summary: SummaryTable
    /// The held-out measurement before training.
    public private(set) var before: HeldOutSet.Measurement?
    /// The held-out measurement after training.
    public private(set) var after: HeldOutSet.Measurement?
    private var curve: LossCurve
    private let start = ContinuousClock.now

    /// An empty report under `title`, timing from now.
    public init(title: String) {
        summary = SummaryTable(title: title)
        curve = LossCurve(title: title)
    }

    /// "task" and "examples": the task's name and how many examples train and are held out.
    public mutating func record(_ task: FineTuningTask) {
        summary.add("task", task.name)
        summary.add("examples", "\(task.training.count) training, \(task.heldOut.count) held out")
    }

    /// The held-out measurement of the base, before training; prints its exact match.
    public mutating func record(before measurement: HeldOutSet.Measurement) {
        before = measurement
        printToStandardError("Before fine-tuning: exact match \(measurement.exactMatch.formatted)")
    }

    /// The held-out measurement after training: "held-out loss" before → after, "exact match
    /// before" and "exact match after".
    public mutating func record(after measurement: HeldOutSet.Measurement) {
        after = measurement
        let losses = [before?.loss, after?.loss].map { $0.map(formattedLoss) ?? "–" }
        summary.add("held-out loss", losses.joined(separator: " → "))
        summary.add("exact match before", before?.exactMatch.formatted ?? "–")
        summary.add("exact match after", measurement.exactMatch.formatted)
    }

    /// "trainable params": what the method trains, of all the model's parameters, as PEFT
    /// prints them.
    public mutating func record(_ prepared: PreparedModel) {
        let (trainable, total) = (prepared.trainableParameterCount, prepared.parameterCount)
        let percent = String(format: "%.2f", 100 * Double(trainable) / Double(max(total, 1)))
        summary.add(
            "trainable params",
            "\(formattedCount(trainable)) of \(formattedCount(total)) (\(percent)%)")
    }

    /// "steps × batch", "seconds per step" and "tokens per second" of the training run, timed
    /// over its steps alone; its loss curve is the one ``save(_:to:)`` writes.
    public mutating func record(_ run: TrainingRun, batchSize: Int, learningRate: Float) {
        let (steps, seconds) = (run.timer.steps, run.timer.seconds)
        summary.add("steps × batch", "\(steps) × \(batchSize), peak lr \(learningRate)")
        summary.add("seconds per step", String(format: "%.3f", run.timer.secondsPerStep ?? 0))
        summary.add(
            "tokens per second", formattedCount(Int(Double(run.tokens) / max(seconds, 1e-9))))
        curve = run.curve
    }

    /// Writes the trained result into `folder`, with the loss curve titled by the exact match
    /// after training.
    public mutating func save(_ prepared: PreparedModel, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try prepared.save(to: folder)
        curve.title =
            summary.title + (after.map { ": exact match \($0.exactMatch.formatted)" } ?? "")
        try curve.write(to: folder.appendingPathComponent(LossCurve.fileName))
    }

    /// Checks that the result loaded back from `folder` generated exactly what the trained model
    /// did, and adds "exact match reloaded", "saved" with the size of the weights, and "loss curve".
    ///
    /// - Throws: ``ReloadMismatch`` when a generation differs.
    public mutating func checkReload(
        _ reloaded: HeldOutSet.Measurement, from folder: URL
    ) throws(ReloadMismatch) {
        let trained = after?.exactMatch.outcomes.map(\.generated) ?? []
        guard reloaded.exactMatch.outcomes.map(\.generated) == trained else {
            throw ReloadMismatch(
                folder: folder.path, trained: after?.exactMatch.formatted ?? "–",
                reloaded: reloaded.exactMatch.formatted)
        }
        let weights = [AdapterFolder.weightsFile, "model.safetensors"].compactMap { name in
            try? FileManager.default.attributesOfItem(
                atPath: folder.appendingPathComponent(name).path)[.size] as? Int
        }.reduce(0, +)
        summary.add(
            "exact match reloaded", "\(reloaded.exactMatch.formatted), identical generations")
        summary.add("saved", "\(folder.path) (\(formattedByteCount(weights)) of weights)")
        summary.add("loss curve", folder.appendingPathComponent(LossCurve.fileName).path)
    }

    /// The first five held-out generations after training, then the summary with the peak
    /// memory and the total time.
    public var rendered: String {
        var summary = summary
        if let peak = ProcessMemory.peakResidentBytes {
            summary.add("peak memory (VmHWM)", formattedByteCount(peak))
        }
        summary.add("total time", formattedSeconds((ContinuousClock.now - start).seconds))
        return (after?.exactMatch.samples() ?? "") + "\n\n" + summary.rendered
    }
}
