/// A padded batch for an encoder-decoder model: encoder inputs, decoder inputs and labels.
///
/// The encoder reads each prompt followed by end-of-sequence (as T5's tokenizer writes it). The
/// labels are the completion followed by end-of-sequence, padded with ``ignoredTarget`` (-100); the
/// decoder inputs are the labels shifted right behind the decoder start token, padded with the
/// padding id, as Hugging Face's `T5ForConditionalGeneration` builds them. Labels are aligned with
/// the decoder's outputs, so the loss is a plain cross-entropy with no shift:
///
/// ```swift
/// let batch = Seq2SeqBatch(
///     examples: [TextExample(prompt: "ab", completion: "c")], tokenizer: ByteTokenizer(),
///     decoderStartTokenID: 256)
/// // batch.inputIDs        == [[97, 98, 257]]
/// // batch.decoderInputIDs == [[256, 99]]
/// // batch.labels          == [[99, 257]]
/// ```
public struct Seq2SeqBatch {
    /// `[B][T_enc]` encoder token ids.
    public var inputIDs: [[Int]]
    /// `[B][T_enc]`: 1 on real encoder tokens, 0 on padding.
    public var attentionMask: [[Int]]
    /// `[B][T_dec]` decoder token ids: the start token, then the labels but the last.
    public var decoderInputIDs: [[Int]]
    /// `[B][T_dec]` labels aligned with the decoder's outputs.
    public var labels: [[Int]]

    /// Tokenizes, truncates and pads `examples`.
    ///
    /// `decoderStartTokenID` is the configuration's `decoder_start_token_id` (T5: the padding id).
    /// A tokenizer that already ends its encodings with end-of-sequence (T5's) gets no second one.
    public init(
        examples: [TextExample], tokenizer: any Tokenizer, decoderStartTokenID: Int,
        maximumInputLength: Int = .max, maximumTargetLength: Int = .max
    ) {
        precondition(!examples.isEmpty, "Seq2SeqBatch: no examples")
        let padding = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        func encode(_ text: String, maximumLength: Int) -> [Int] {
            var ids = tokenizer.encode(text)
            if let end = tokenizer.eosTokenID, ids.last != end { ids.append(end) }
            return Array(ids.prefix(maximumLength))
        }
        let inputs = examples.map { encode($0.prompt, maximumLength: maximumInputLength) }
        let targets = examples.map { encode($0.completion, maximumLength: maximumTargetLength) }
        let inputLength = inputs.map(\.count).max()!
        let targetLength = targets.map(\.count).max()!
        func padded(_ row: [Int], to length: Int, with value: Int) -> [Int] {
            row + [Int](repeating: value, count: length - row.count)
        }
        inputIDs = inputs.map { padded($0, to: inputLength, with: padding) }
        attentionMask = inputs.map {
            padded([Int](repeating: 1, count: $0.count), to: inputLength, with: 0)
        }
        labels = targets.map { padded($0, to: targetLength, with: ignoredTarget) }
        decoderInputIDs = targets.map {
            padded([decoderStartTokenID] + $0.dropLast(), to: targetLength, with: padding)
        }
    }

    /// The number of encoder and decoder tokens that are not padding.
    public var tokenCount: Int {
        attentionMask.reduce(0) { $0 + $1.reduce(0, +) } + labelCount
    }

    /// The number of target tokens the loss is taken over.
    public var labelCount: Int { labels.reduce(0) { $0 + $1.count { $0 != ignoredTarget } } }

    /// The labels flattened row by row, as `crossEntropy(logits:targets:)` takes them.
    public var flatLabels: [Int] { labels.flatMap { $0 } }
}
