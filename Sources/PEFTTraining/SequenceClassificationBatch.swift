/// A padded batch for a sequence classifier: each text's tokens, right-padded, and its class.
///
/// Padding uses the model's `pad_token_id` when it has one (the head skips it when pooling), else
/// the tokenizer's padding or end-of-sequence id; the attention mask marks it either way, and
/// ``pooledPositions(of:padTokenID:)`` reads the mask when there is no pad id.
public struct SequenceClassificationBatch {
    /// `[B][T]` token ids.
    public var tokenIDs: [[Int]]
    /// `[B][T]`: 1 on real tokens, 0 on padding.
    public var attentionMask: [[Int]]
    /// One class index per row.
    public var labels: [Int]

    /// Tokenizes `examples`' texts (``TextExample/classIndex`` gives the labels), truncates them
    /// to `maximumLength` and pads them with `padTokenID`.
    public init(
        examples: [TextExample], tokenizer: any Tokenizer, padTokenID: Int?,
        maximumLength: Int = .max
    ) {
        precondition(!examples.isEmpty, "SequenceClassificationBatch: no examples")
        let padding = padTokenID ?? tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        // An empty text still needs one position to pool.
        let rows = examples.map { Array(tokenizer.encode($0.prompt).prefix(maximumLength)) }
            .map { $0.isEmpty ? [padding] : $0 }
        let length = rows.map(\.count).max()!
        tokenIDs = rows.map { $0 + [Int](repeating: padding, count: length - $0.count) }
        attentionMask = rows.map { row in (0..<length).map { $0 < row.count ? 1 : 0 } }
        labels = examples.map { example in
            guard let index = example.classIndex else {
                preconditionFailure(
                    "SequenceClassificationBatch: '\(example.completion)' is not a class index")
            }
            return index
        }
    }

    /// The number of tokens that are not padding.
    public var tokenCount: Int { attentionMask.reduce(0) { $0 + $1.reduce(0, +) } }
}
