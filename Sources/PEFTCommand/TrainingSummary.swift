import Foundation
import PEFTTraining

/// What `peft train` prints when it finishes, under the keys the trade-off report reads.
struct TrainingSummary {
    /// The values by key; `NSNull` where there is nothing to report.
    private(set) var values: [String: Any]

    /// Evaluates the trained model on `heldOut` (exact match, loss, generation speed; accuracy
    /// and loss for a classifier) and gathers what `loop` measured.
    init(
        _ loop: TrainingLoop, heldOut: [TextExample], adapterFolder: URL,
        exactMatchLimit: Int = .max
    ) throws {
        let prepared = loop.prepared
        values = [
            "method": prepared.method.rawValue, "steps": loop.state.step,
            "trainable_parameters": prepared.trainableParameterCount,
            "all_parameters": prepared.parameterCount,
            // Over the steps this process trained, so a resumed run reports its own speed.
            "seconds_per_step": loop.timer.secondsPerStep ?? NSNull(),
            "final_loss": loop.curve.training.last.map { Double($0.loss) } ?? NSNull(),
            "peak_resident_bytes": ProcessMemory.peakResidentBytes ?? 0,
            "adapter_bytes": folderSize(adapterFolder),
            // The processes that trained together (mpirun -np N), and what crossed between them.
            "world_size": loop.group.size,
            // Steps --skip-nonfinite skipped: their loss or gradient was not finite.
            "skipped_steps": loop.skippedSteps,
            "all_reduced_floats_per_step": loop.group.size > 1 ? loop.parallel.elementsPerStep : 0,
        ]
        if prepared.isClassifier {
            // A classifier generates nothing: accuracy replaces exact match and the speeds.
            let evaluation = loop.accuracy(on: heldOut)
            values["accuracy"] = evaluation.accuracy
            values["eval_loss"] = evaluation.meanLoss.map { Double($0) } ?? NSNull()
            return
        }
        // Generation is slow: a large validation set gives its loss in full, its exact match on
        // the first examples.
        let evaluation = try loop.exactMatch(on: Array(heldOut.prefix(exactMatchLimit)))
        let evaluationLoss = prepared.heldOutLoss(
            on: heldOut, tokenizer: loop.tokenizer, maximumLength: loop.maximumLength)
        let speed = try InferenceSpeed(
            prepared, tokenizer: loop.tokenizer,
            prompt: heldOut.first { !$0.prompt.isEmpty }?.prompt ?? "a")
        values["eval_loss"] = evaluationLoss.map { Double($0) } ?? NSNull()
        // No held-out example measures nothing: null, not a 0% that looks like a failed run.
        values["exact_match"] = evaluation.outcomes.isEmpty ? NSNull() : evaluation.accuracy
        values["tokens_per_second"] = speed.unmerged
        values["merged_tokens_per_second"] = speed.merged ?? NSNull()
    }

    /// Adds the validation's results (best loss and step, whether it stopped early) and the
    /// training examples longer than `--max-length`.
    mutating func addValidation(_ loop: TrainingLoop, truncatedExamples: Int, bestFolder: URL) {
        let best = loop.state.bestStep.map { ($0, Double(loop.state.bestValidationLoss ?? .nan)) }
        values["truncated_examples"] = truncatedExamples
        values["best_validation_loss"] = best.map { $0.1 as Any } ?? NSNull()
        values["best_step"] = best.map { $0.0 as Any } ?? NSNull()
        values["best_adapter"] = best.map { _ in bestFolder.path as Any } ?? NSNull()
    }

    /// Adds what `--pack` made of the training examples.
    mutating func addPacking(_ packing: TrainingPacking) {
        values["packed_rows"] = packing.rows.count
        values["packed_fill"] = packing.fill
    }

    /// Adds training's memory by category (``TrainingMemory``).
    mutating func addMemory(_ memory: TrainingMemory) {
        for (key, bytes) in memory.summary { values[key] = bytes }
    }

    /// One JSON object, or `key: value` lines sorted by key.
    func text(json: Bool) throws -> String {
        if json {
            // JSON has no NaN or infinity: a loss that is not a number is reported as null.
            let finite = values.mapValues { value -> Any in
                if let number = value as? Double, !number.isFinite { return NSNull() }
                return value
            }
            return String(
                decoding: try JSONSerialization.data(
                    withJSONObject: finite, options: [.sortedKeys]),
                as: UTF8.self)
        }
        return values.keys.sorted().map { "\($0): \(values[$0]!)" }.joined(separator: "\n")
    }
}

/// The total size of the files in a folder.
func folderSize(_ folder: URL) -> Int {
    let files =
        (try? FileManager.default.contentsOfDirectory(
            at: folder, includingPropertiesForKeys: [.fileSizeKey])) ?? []
    return files.reduce(0) {
        $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
    }
}
