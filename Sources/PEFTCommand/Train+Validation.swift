// `peft train`'s validation: the held-out split (--val-data, --val-fraction), the validation loss
// every --eval-every steps, the best checkpoint in OUT/best, and early stopping.
import ArgumentParser
import Foundation
import PEFTDistributed
import PEFTTraining

extension Train {
    /// The random-model preset: `--random-model`, or the deprecated `--config`.
    var randomModelPreset: String? { randomModel ?? config }

    /// Checks the options added for configuration files and validation.
    func validateAdditions() throws {
        if randomModel != nil && config != nil {
            throw ValidationError("give --random-model alone (--config is its deprecated alias)")
        }
        if let preset = randomModelPreset,
            !TrainConfigurationFile.randomModelPresets.contains(preset)
        {
            throw ValidationError("--random-model must be micro, tiny or small, got '\(preset)'")
        }
        if configurationFile != nil {
            // Expanded before parsing; reaching here means the file was not read.
            throw ValidationError("-c: give the YAML file right after 'peft train'")
        }
        if validationData != nil && validationFraction != nil {
            throw ValidationError("give at most one of --val-data and --val-fraction")
        }
        if let validationFraction, !(validationFraction > 0 && validationFraction < 1) {
            throw ValidationError("--val-fraction must be in (0, 1), got \(validationFraction)")
        }
        if (validationData != nil || validationFraction != nil) && data == nil {
            throw ValidationError("--val-data and --val-fraction need --data")
        }
        if validationData != nil && isSequenceClassification {
            throw ValidationError(
                "--task-type seq-cls: use --val-fraction (--val-data would map string labels apart)"
            )
        }
        if let earlyStoppingPatience, earlyStoppingPatience <= 0 || evalEvery <= 0 {
            throw ValidationError(
                "--early-stopping-patience needs a positive N and --eval-every N > 0")
        }
        if evalEvery < 0 || saveEvery < 0 || evalExamples < 0 {
            throw ValidationError("--eval-every, --save-every and --eval-examples must be ≥ 0")
        }
    }

    /// `all` split into training and validation examples: `--val-data`'s file, the last
    /// `--val-fraction` of the lines, or by default the last tenth (at most `--eval-examples`).
    func splitValidation(_ all: [TextExample], load: (URL) throws -> [TextExample]) throws -> (
        training: [TextExample], heldOut: [TextExample]
    ) {
        if let validationData {
            return (all, try load(URL(fileURLWithPath: validationData)))
        }
        if let validationFraction {
            let count = Int((Double(all.count) * validationFraction).rounded())
            guard count >= 1, count < all.count else {
                throw CommandError(
                    "--val-fraction \(validationFraction): \(all.count) examples leave "
                        + (count < 1 ? "no validation example" : "no training example"))
            }
            return (Array(all.dropLast(count)), Array(all.suffix(count)))
        }
        let heldOut = min(evalExamples, all.count / 10)
        if heldOut == 0 && evalExamples > 0, let data {
            printToStandardError(
                "note: \(data) has \(all.count) examples; the last tenth is held out, so none "
                    + "is, and the run reports no exact match")
        }
        return (Array(all.dropLast(heldOut)), Array(all.suffix(heldOut)))
    }

    /// Prints the note that `--config` is deprecated, when it was used.
    func noteDeprecatedOptions(in group: any ProcessGroup) {
        if config != nil && group.isMainProcess {
            printToStandardError(
                "note: --config is deprecated for the random model; use --random-model")
        }
    }
}

/// The validation of one `peft train` run: the loss every `--eval-every` steps, the best adapter
/// in `OUT/best`, early stopping, and one `metrics.jsonl` line per step.
struct ValidationMonitor {
    /// The validation examples (the held-out split).
    let examples: [TextExample]
    /// `OUT/best`: the adapter of the lowest validation loss, with `best.json`.
    let bestFolder: URL
    /// Evaluations without improvement that end the run; nil never ends it.
    let patience: Int?
    /// One JSON object per step.
    let metrics: MetricsFile

    /// A monitor writing into `bestFolder` and `metrics`; a fresh run (not `resuming`) removes
    /// the best adapter an earlier run left in the folder, so that `OUT/best` is always this run's
    /// (every rank but the first passes `resuming: true`: it writes nothing).
    init(
        examples: [TextExample], bestFolder: URL, patience: Int?, metrics: MetricsFile,
        resuming: Bool
    ) throws {
        (self.examples, self.bestFolder, self.patience, self.metrics) =
            (examples, bestFolder, patience, metrics)
        if !resuming && FileManager.default.fileExists(atPath: bestFolder.path) {
            try FileManager.default.removeItem(at: bestFolder)
        }
    }

    /// Computes the validation loss when `evaluating`, keeps the best adapter, appends the step's
    /// metrics line, and returns whether early stopping ends the run here.
    ///
    /// Every rank computes the loss (the same on each), so that all decide alike without
    /// exchanging it; rank 0 alone writes.
    func afterStep(_ loop: inout TrainingLoop, evaluating: Bool) throws -> Bool {
        var validationLoss: Float?
        if evaluating && !examples.isEmpty {
            let prepared = loop.prepared
            validationLoss =
                prepared.isClassifier
                ? loop.accuracy(on: examples).meanLoss
                : prepared.heldOutLoss(
                    on: examples, tokenizer: loop.tokenizer, maximumLength: loop.maximumLength)
            prepared.train(true)
        }
        if let validationLoss {
            let isBest = loop.recordValidation(loss: validationLoss)
            if loop.group.isMainProcess {
                printToStandardError(
                    "eval step \(loop.state.step): validation loss "
                        + String(format: "%.4f", validationLoss) + (isBest ? " (best)" : ""))
                if isBest { try saveBest(loop, loss: validationLoss) }
            }
        }
        if loop.group.isMainProcess, let last = loop.lastStep {
            try metrics.append(step: loop.state.step, last, validationLoss: validationLoss)
        }
        guard let patience, validationLoss != nil,
            loop.state.evaluationsWithoutImprovement >= patience
        else { return false }
        if loop.group.isMainProcess {
            printToStandardError(
                "early stopping at step \(loop.state.step): no better validation loss in "
                    + "\(patience) evaluations (best "
                    + String(format: "%.4f", loop.state.bestValidationLoss ?? .nan)
                    + " at step \(loop.state.bestStep ?? 0), kept in \(bestFolder.path))")
        }
        return true
    }

    /// Replaces `OUT/best` with the adapter as it is now and `best.json` (step, loss).
    private func saveBest(_ loop: TrainingLoop, loss: Float) throws {
        try loop.checkWeightsAreFinite()
        try CheckpointDirectory.replace(bestFolder) { temporary in
            try loop.prepared.save(to: temporary)
            let record: [String: Any] = ["step": loop.state.step, "validation_loss": Double(loss)]
            try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]).write(
                to: temporary.appendingPathComponent("best.json"), options: .atomic)
        }
    }
}
