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

    /// `[B][T]`: which packed example each token belongs to (padding gets its own, -1), or `nil`
    /// when no row of the batch is packed. See ``PackedSequence``.
    public var segmentIDs: [[Int]]?

    /// Tokenizes, truncates to `maximumLength` and pads `examples`.
    ///
    /// Padding uses the tokenizer's padding id, or its end-of-sequence id when it has none (GPT-2);
    /// the mask and the labels keep padding out of attention and loss either way. A row longer than
    /// `maximumLength` loses its end. An example that holds a ``PackedSequence`` is one row of
    /// several examples, kept apart by ``segmentIDs``.
    public init(
        examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int = .max
    ) {
        precondition(!examples.isEmpty, "CausalLanguageModelingBatch: no examples")
        let padding = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        var rows: [(tokens: [Int], labels: [Int], segments: [Int])] = examples.map { example in
            if let packed = example.packed {
                let segments = packed.segmentLengths.enumerated().flatMap {
                    [Int](repeating: $0.offset, count: $0.element)
                }
                return (packed.tokenIDs, packed.labels, segments)
            }
            let (tokens, labels) = Self.row(
                of: example, tokenizer: tokenizer, maximumLength: maximumLength)
            return (tokens, labels, [Int](repeating: 0, count: tokens.count))
        }
        let realLengths = rows.map(\.tokens.count)
        let length = realLengths.max()!
        for index in rows.indices {
            let missing = length - realLengths[index]
            rows[index].tokens += [Int](repeating: padding, count: missing)
            rows[index].labels += [Int](repeating: ignoredTarget, count: missing)
            rows[index].segments += [Int](repeating: -1, count: missing)
        }
        tokenIDs = rows.map(\.tokens)
        labels = rows.map(\.labels)
        attentionMask = realLengths.map { real in (0..<length).map { $0 < real ? 1 : 0 } }
        segmentIDs = examples.contains { $0.packed != nil } ? rows.map(\.segments) : nil
    }

    /// One example's tokens, truncated to `maximumLength`, and its labels: the completion's tokens
    /// (or a chat's assistant turns), ``ignoredTarget`` elsewhere.
    static func row(of example: TextExample, tokenizer: any Tokenizer, maximumLength: Int) -> (
        tokens: [Int], labels: [Int]
    ) {
        if let chat = example.chat {
            // The template wrote the turn ends; the loss mask picks the labels.
            let tokens = Array(chat.tokenIDs.prefix(maximumLength))
            return (tokens, zip(tokens, chat.lossMask).map { $1 ? $0 : ignoredTarget })
        }
        let prompt = tokenizer.encode(example.prompt)
        // The completion continues the prompt: a second BOS in the middle would be learned too.
        let completion =
            tokenizer.encode(example.completion, addingSpecialTokens: false)
            + (tokenizer.eosTokenID.map { [$0] } ?? [])
        let tokens = Array((prompt + completion).prefix(maximumLength))
        let labels = [Int](repeating: ignoredTarget, count: prompt.count) + completion
        return (tokens, Array(labels.prefix(tokens.count)))
    }

    /// The decoder inputs of this batch: its ids, mask and any packed segments.
    public var decoderInputs: DecoderInputs {
        var inputs = DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask)
        inputs.segmentIDs = segmentIDs
        return inputs
    }

    /// The number of tokens that are not padding.
    public var tokenCount: Int { attentionMask.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The number of tokens the loss is taken over: the labels but the first of each row, which
    /// no position predicts once the loss shifts them.
    public var labelCount: Int {
        labels.reduce(0) { $0 + $1.dropFirst().count { $0 != ignoredTarget } }
    }
}
