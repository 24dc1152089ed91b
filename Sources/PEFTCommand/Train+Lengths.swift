import Foundation
import PEFTTraining

extension Train {
    /// Refuses, before the first step, examples the model cannot read: a sequence past the last
    /// position would stop the process inside the model instead of ending with an error.
    func checkLengths(
        of examples: (training: [TextExample], heldOut: [TextExample]), fit prepared: PreparedModel,
        tokenizer: any Tokenizer
    ) throws {
        if let limit = prepared.positionLimit, limit <= 0 {
            throw CommandError(
                "--virtual-tokens \(virtualTokens): the adapter takes \(prepared.adapterPositions) "
                    + "positions and the model has only \(limit + prepared.adapterPositions)")
        }
        do {
            try prepared.checkTrainingLengths(
                examples.training, tokenizer: tokenizer, maximumLength: maximumLength)
            if !prepared.isClassifier {
                try prepared.checkPromptLengths(examples.heldOut, tokenizer: tokenizer)
            }
        } catch let error as SequenceLengthError {
            // --data's lines are the training examples, then the held-out ones.
            let line =
                error.index + 1 + (error.role == .prompt ? examples.training.count : 0)
            let source = data.map { "\($0):\(line): " } ?? ""
            let remedy =
                error.role == .training
                ? "lower --max-length to \(error.limit)"
                : "shorten the prompt or hold out other examples"
            throw CommandError(
                "\(source)\(error); \(remedy)"
                    + (error.adapterPositions > 0 ? " or --virtual-tokens" : ""))
        }
    }
}
