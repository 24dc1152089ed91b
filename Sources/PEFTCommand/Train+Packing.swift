// `peft train --pack`: several training examples per row, kept apart by the model.
import ArgumentParser
import Foundation
import PEFTTraining

/// The training examples packed into rows by `--pack`, and how full the rows are.
struct TrainingPacking: CustomStringConvertible {
    /// One training example per packed row.
    let rows: [TextExample]
    /// How many examples went into the rows.
    let exampleCount: Int
    /// The longest a row may be (`--max-length`).
    let maximumLength: Int

    /// The share of the rows' `--max-length` slots that hold tokens rather than padding.
    var fill: Double {
        let tokens = rows.reduce(0) { $0 + ($1.packed?.tokenIDs.count ?? 0) }
        return rows.isEmpty ? 0 : Double(tokens) / Double(rows.count * maximumLength)
    }

    var description: String {
        "--pack: \(exampleCount) examples in \(rows.count) rows of up to \(maximumLength) tokens "
            + "(\(Int((fill * 100).rounded()))% full)"
    }
}

extension Train {
    /// What `--pack` cannot be combined with, checked before anything loads.
    func validatePacking() throws {
        guard packs else { return }
        if [.prompt, .ptuning, .prefix].contains(method) {
            throw ValidationError(
                "--pack: --method \(method.rawValue) puts virtual tokens before each row, which "
                    + "packed examples cannot share; train it without --pack")
        }
        if groupsByLength {
            throw ValidationError(
                "--pack: packed rows are already of one length; drop --group-by-length")
        }
        if isSequenceClassification {
            throw ValidationError("--pack: --task-type seq-cls classifies whole rows; drop --pack")
        }
    }

    /// With `--pack`, the training examples packed into rows of `--max-length` tokens; `nil`
    /// without it.
    func packedTraining(
        _ examples: [TextExample], tokenizer: any Tokenizer, base: any AdaptableModel
    ) throws -> TrainingPacking? {
        guard packs else { return nil }
        guard !(base is T5ForConditionalGeneration) else {
            throw CommandError(
                "--pack: only decoder-only models (GPT-2, the Llama family) pack examples; "
                    + "this --model is T5")
        }
        let (rows, _) = PackedSequence.pack(
            examples, tokenizer: tokenizer, maximumLength: maximumLength)
        guard rows.count >= batchSize else {
            throw CommandError(
                "--pack: the \(examples.count) examples fill \(rows.count) rows, fewer than "
                    + "--batch-size \(batchSize); lower --batch-size or pack without it")
        }
        return TrainingPacking(
            rows: rows.map(TextExample.init(packed:)), exampleCount: examples.count,
            maximumLength: maximumLength)
    }
}
