import Foundation
import PEFTTraining

/// What one training step measured, for `metrics.jsonl`.
struct StepMetrics {
    /// The step's loss; nil for a step skipped as not finite.
    var loss: Float?
    /// The learning rate the step used.
    var learningRate: Float
    /// Tokens that were not padding, over all ranks.
    var tokens: Int
    /// The step's wall-clock seconds.
    var seconds: Double
}

/// `OUT/metrics.jsonl`: one JSON object per training step (step, loss, validation loss, learning
/// rate, tokens per second, peak memory), appended as the run goes, so that a resumed run
/// continues the same file.
struct MetricsFile {
    /// The file name inside the output folder.
    static let fileName = "metrics.jsonl"
    /// Where the lines go.
    let url: URL

    /// The file in `folder`, started afresh, or (resuming at `resumedStep`) keeping only the
    /// lines up to that step, so that steps an interrupted run took past its checkpoint are not
    /// counted twice. Only the process that `writes` (rank 0) touches the file.
    init(in folder: URL, resumedStep: Int?, writes: Bool = true) throws {
        url = folder.appendingPathComponent(Self.fileName)
        guard writes else { return }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard let resumedStep, let text = try? String(contentsOf: url, encoding: .utf8) else {
            try Data().write(to: url, options: .atomic)
            return
        }
        let kept = text.split(separator: "\n").filter { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["step"] as? Int).map { $0 <= resumedStep } ?? false
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: url, options: .atomic)
    }

    /// Appends the line of `step`.
    func append(step: Int, _ metrics: StepMetrics, validationLoss: Float?) throws {
        func number(_ value: Float?) -> Any {
            value.map { $0.isFinite ? Double($0) as Any : NSNull() } ?? NSNull()
        }
        let object: [String: Any] = [
            "step": step, "loss": number(metrics.loss), "val_loss": number(validationLoss),
            "learning_rate": Double(metrics.learningRate),
            "tokens_per_second": metrics.seconds > 0 ? Double(metrics.tokens) / metrics.seconds : 0,
            "peak_memory_bytes": ProcessMemory.peakResidentBytes ?? NSNull(),
        ]
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        line.append(UInt8(ascii: "\n"))
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
