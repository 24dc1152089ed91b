// Batches of chat examples: the rendered conversation is the row, its loss mask the labels.

extension CausalLanguageModelingBatch {
    /// Pads `examples` into a batch, truncated to `maximumLength`; labels are the ids where the
    /// loss mask is set and ``ignoredTarget`` elsewhere (no end-of-sequence token is added: the
    /// template writes the turn ends).
    public init(
        chatExamples examples: [ChatExample], tokenizer: any Tokenizer, maximumLength: Int = .max
    ) {
        precondition(!examples.isEmpty, "CausalLanguageModelingBatch: no examples")
        let padding = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        let rows = examples.map { example in
            let tokens = Array(example.tokenIDs.prefix(maximumLength))
            let labels = zip(tokens, example.lossMask).map { $1 ? $0 : ignoredTarget }
            return (tokens, labels)
        }
        let length = rows.map(\.0.count).max()!
        tokenIDs = rows.map { $0.0 + [Int](repeating: padding, count: length - $0.0.count) }
        labels = rows.map { $0.1 + [Int](repeating: ignoredTarget, count: length - $0.1.count) }
        attentionMask = rows.map { row in (0..<length).map { $0 < row.0.count ? 1 : 0 } }
    }
}
