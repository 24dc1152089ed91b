// Checks that examples fit the model's positions before a run starts: a model with learned
// positions (GPT-2) or a position table (Llama) cannot read past its last one.

extension PreparedModel {
    /// The positions a decoder's input may take, after the adapter's virtual tokens or prefix; nil
    /// for a model without such a limit (T5's relative positions) or a classifier.
    public var positionLimit: Int? { causal?.maximumLength }

    /// The positions the adapter's virtual tokens or prefix take.
    public var adapterPositions: Int {
        guard let causal, let base = base as? any CausalLanguageModel else { return 0 }
        return base.maximumLength - causal.maximumLength
    }

    /// Throws ``SequenceLengthError`` for the first example whose prompt and completion, truncated
    /// to `maximumLength` as training truncates them, need more positions than the model has.
    public func checkTrainingLengths(
        _ examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int
    ) throws {
        guard let limit = positionLimit else { return }
        for (index, example) in examples.enumerated() {
            // Built as training builds it, so the length is the one the model will be given.
            let length = CausalLanguageModelingBatch(
                examples: [example], tokenizer: tokenizer, maximumLength: maximumLength
            ).tokenIDs[0].count
            if length > limit {
                throw SequenceLengthError(
                    role: .training, index: index, length: length, limit: limit,
                    adapterPositions: adapterPositions)
            }
        }
    }

    /// Throws ``SequenceLengthError`` for the first example whose prompt alone needs more positions
    /// than the model has; generation then stops when the positions run out.
    public func checkPromptLengths(_ examples: [TextExample], tokenizer: any Tokenizer) throws {
        guard let limit = positionLimit else { return }
        for (index, example) in examples.enumerated() {
            let length = tokenizer.encode(example.prompt).count
            if length > limit {
                throw SequenceLengthError(
                    role: .prompt, index: index, length: length, limit: limit,
                    adapterPositions: adapterPositions)
            }
        }
    }
}

extension PreparedModel {
    /// Each example's length in tokens before truncation: prompt, completion and end of sequence
    /// for a decoder, the longer of input and target for an encoder-decoder, the text for a
    /// classifier. Grouping by length sorts by it; one above `--max-length` is truncated.
    public func untruncatedLengths(of examples: [TextExample], tokenizer: any Tokenizer) -> [Int] {
        let endOfSequence = tokenizer.eosTokenID == nil ? 0 : 1
        return examples.map { example in
            let prompt = tokenizer.encode(example.prompt).count
            if isClassifier { return prompt }
            let completion =
                tokenizer.encode(example.completion, addingSpecialTokens: false).count
                + endOfSequence
            return seq2Seq != nil ? max(prompt, completion) : prompt + completion
        }
    }
}
