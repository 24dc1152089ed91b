// The two held-out measures the examples and `peft train` report: exact match and loss.

extension PreparedModel {
    /// Greedy completions of `examples`' prompts, compared with their completions exactly, without
    /// gradients; leaves the model in evaluation mode. Throws ``GenerationError`` for a prompt the
    /// model cannot take (``checkPromptLengths(_:tokenizer:)`` finds those before a run).
    public func exactMatch(
        on examples: [TextExample], tokenizer: any Tokenizer, maximumNewTokens: Int
    ) throws -> ExactMatchEvaluation {
        train(false)
        return try withoutGradients {
            try ExactMatchEvaluation(examples) {
                try complete($0, tokenizer: tokenizer, maximumNewTokens: maximumNewTokens)
            }
        }
    }

    /// The mean loss per predicted token over `examples`, in batches of 32, without gradients;
    /// nil for no examples. Leaves the model in evaluation mode.
    public func heldOutLoss(
        on examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int
    ) -> Float? {
        guard !examples.isEmpty else { return nil }
        train(false)
        let decoderStart = (base as? any Seq2SeqLanguageModel)?.decoderStartTokenID
        return withoutGradients {
            var total: Double = 0
            var count = 0
            for chunk in examples.chunked(into: 32) {
                let loss = loss(chunk, tokenizer: tokenizer, maximumLength: maximumLength).scalar
                // The batch's loss is a mean; weighting it by its token count makes the whole a mean.
                let predicted =
                    if let decoderStart {
                        Seq2SeqBatch(
                            examples: chunk, tokenizer: tokenizer,
                            decoderStartTokenID: decoderStart, maximumInputLength: maximumLength,
                            maximumTargetLength: maximumLength
                        ).labelCount
                    } else {
                        CausalLanguageModelingBatch(
                            examples: chunk, tokenizer: tokenizer, maximumLength: maximumLength
                        ).labelCount
                    }
                total += Double(loss) * Double(predicted)
                count += predicted
            }
            return Float(total / Double(max(count, 1)))
        }
    }
}
