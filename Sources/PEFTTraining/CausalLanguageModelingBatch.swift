/// A padded batch for a decoder-only model, with labels only on the completions.
///
/// Each row is `prompt + completion + end-of-sequence`, right-padded to the batch's longest row.
/// `labels[b][t]` is `tokenIDs[b][t]` on completion and end-of-sequence tokens and
/// ``ignoredTarget`` (-100) on prompt and padding tokens, aligned with the tokens, as Hugging Face
/// expects: ``causalLanguageModelingLoss(logits:labels:)`` shifts them itself.
///
/// ```swift
/// let batch = CausalLanguageModelingBatch(
///     examples: [TextExample(prompt: "ab", completion: "c")], tokenizer: ByteTokenizer())
/// // batch.tokenIDs == [[97, 98, 99, 257]]
/// // batch.labels   == [[-100, -100, 99, 257]]
/// ```
public struct CausalLanguageModelingBatch {
    /// `[B][T]` token ids.
    public var tokenIDs: [[Int]]
    /// `[B][T]`: 1 on real tokens, 0 on padding.
    public var attentionMask: [[Int]]
    /// `[B][T]` labels aligned with ``tokenIDs``.
    public var labels: [[Int]]

    /// Tokenizes, truncates to `maximumLength` and pads `examples`.
    ///
    /// Padding uses the tokenizer's padding id, or its end-of-sequence id when it has none (GPT-2);
    /// the mask and the labels keep padding out of attention and loss either way. A row longer than
    /// `maximumLength` loses its end.
    public init(
        examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int = .max
    ) {
        precondition(!examples.isEmpty, "CausalLanguageModelingBatch: no examples")
        let endOfSequence = tokenizer.eosTokenID.map { [$0] } ?? []
        let padding = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        var rows: [(tokens: [Int], labels: [Int])] = examples.map { example in
            if let chat = example.chat {
                // The template wrote the turn ends; the loss mask picks the labels.
                let tokens = Array(chat.tokenIDs.prefix(maximumLength))
                return (tokens, zip(tokens, chat.lossMask).map { $1 ? $0 : ignoredTarget })
            }
            let prompt = tokenizer.encode(example.prompt)
            // The completion continues the prompt: a second BOS in the middle would be learned too.
            let completion =
                tokenizer.encode(example.completion, addingSpecialTokens: false) + endOfSequence
            let tokens = Array((prompt + completion).prefix(maximumLength))
            let labels = [Int](repeating: ignoredTarget, count: prompt.count) + completion
            return (tokens, Array(labels.prefix(tokens.count)))
        }
        let realLengths = rows.map(\.tokens.count)
        let length = realLengths.max()!
        for index in rows.indices {
            let missing = length - realLengths[index]
            rows[index].tokens += [Int](repeating: padding, count: missing)
            rows[index].labels += [Int](repeating: ignoredTarget, count: missing)
        }
        tokenIDs = rows.map(\.tokens)
        labels = rows.map(\.labels)
        attentionMask = realLengths.map { real in (0..<length).map { $0 < real ? 1 : 0 } }
    }

    /// The number of tokens that are not padding.
    public var tokenCount: Int { attentionMask.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The number of tokens the loss is taken over: the labels but the first of each row, which
    /// no position predicts once the loss shifts them.
    public var labelCount: Int {
        labels.reduce(0) { $0 + $1.dropFirst().count { $0 != ignoredTarget } }
    }
}
