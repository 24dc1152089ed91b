import Foundation

/// A tokenizer that runs the stages a Hugging Face tokenizer.json describes: added tokens,
/// normalizer, pre-tokenizer, model (BPE or Unigram), post-processor and decoder.
///
/// ``GPT2Tokenizer`` and ``T5Tokenizer`` conform; what sets them apart is which model they
/// accept and which special tokens they name, while encoding and decoding are the pipeline's:
///
/// ```swift
/// let tokenizer = try T5Tokenizer(contentsOf: folder)
/// tokenizer.encode("Hello", addingSpecialTokens: false)  // no </s>
/// tokenizer.decode(ids, skippingSpecialTokens: true)     // no </s>, <pad> or sentinels
/// ```
public protocol PipelineTokenizer: Tokenizer {
    /// Loads the tokenizer files of a Hugging Face model folder.
    init(contentsOf directory: URL) throws(TokenizerError)

    /// The stages read from the tokenizer's files.
    var pipeline: TokenizerPipeline { get }
}

extension PipelineTokenizer {
    /// One more than the largest id, added tokens included.
    public var vocabularySize: Int { pipeline.vocabularySize }

    /// The id the model gives to text its vocabulary cannot represent; byte-level BPE (GPT-2)
    /// never needs one.
    public var unknownTokenID: Int? { pipeline.model.unknownID }

    /// Returns the ids of `text` with the post-processor's special tokens (T5's `</s>`; none for
    /// GPT-2).
    public func encode(_ text: String) -> [Int] {
        pipeline.encode(text, addingSpecialTokens: true)
    }

    /// Returns the ids of `text`, with the post-processor's special tokens when
    /// `addingSpecialTokens` is true.
    public func encode(_ text: String, addingSpecialTokens: Bool) -> [Int] {
        pipeline.encode(text, addingSpecialTokens: addingSpecialTokens)
    }

    /// Returns the text of `ids`, special tokens included.
    public func decode(_ ids: [Int]) -> String {
        pipeline.decode(ids, skippingSpecialTokens: false)
    }

    /// Returns the text of `ids`, leaving out special tokens (`<|endoftext|>`, or `</s>`, `<pad>`
    /// and the sentinels) when `skippingSpecialTokens` is true.
    public func decode(_ ids: [Int], skippingSpecialTokens: Bool) -> String {
        pipeline.decode(ids, skippingSpecialTokens: skippingSpecialTokens)
    }

    /// The id of `token` as the vocabulary writes it (GPT-2 writes a space as `Ġ`, T5 starts a
    /// word with `▁`).
    public func id(for token: String) -> Int? {
        pipeline.id(for: token)
    }

    /// The token with `id`, as the vocabulary writes it.
    public func token(for id: Int) -> String? {
        pipeline.token(for: id)
    }
}
