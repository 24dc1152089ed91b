/// Turns text into token ids and back.
///
/// Every tokenizer in this module conforms: ``GPT2Tokenizer`` (byte-level BPE), ``T5Tokenizer``
/// (Unigram), ``HuggingFaceTokenizer`` (the Llama family, and any tokenizer.json with its
/// tokenizer_config.json) and ``ByteTokenizer`` (one id per UTF-8 byte);
/// ``loadTokenizer(contentsOf:)`` picks the right one for a folder. Special token ids are `nil`
/// when the vocabulary has no such token.
///
/// ```swift
/// let tokenizer = try GPT2Tokenizer(contentsOf: folder)
/// let ids = tokenizer.encode("Hello world")
/// print(tokenizer.decode(ids))  // Hello world
/// ```
public protocol Tokenizer: Sendable {
    /// The number of rows an embedding table needs: one more than the largest id.
    var vocabularySize: Int { get }

    /// The id that marks the start of a sequence, if the vocabulary has one.
    var bosTokenID: Int? { get }

    /// The id that marks the end of a sequence, if the vocabulary has one.
    var eosTokenID: Int? { get }

    /// The id used to pad a batch to a common length, if the vocabulary has one.
    var padTokenID: Int? { get }

    /// The id that stands for text the vocabulary cannot represent, if there is one.
    var unknownTokenID: Int? { get }

    /// Returns the ids of `text`, with the special tokens the tokenizer adds by default.
    func encode(_ text: String) -> [Int]

    /// Returns the ids of `text`, leaving out the special tokens (a Llama BOS, T5's `</s>`) when
    /// `addingSpecialTokens` is false, as a completion that follows its prompt needs.
    func encode(_ text: String, addingSpecialTokens: Bool) -> [Int]

    /// Returns the text of `ids`, special tokens included; unknown ids are skipped.
    func decode(_ ids: [Int]) -> String
}

extension Tokenizer {
    /// The same ids either way, for tokenizers that add no special tokens.
    public func encode(_ text: String, addingSpecialTokens: Bool) -> [Int] {
        encode(text)
    }

    /// No start-of-sequence token unless the tokenizer says otherwise.
    public var bosTokenID: Int? { nil }

    /// No end-of-sequence token unless the tokenizer says otherwise.
    public var eosTokenID: Int? { nil }

    /// No padding token unless the tokenizer says otherwise.
    public var padTokenID: Int? { nil }

    /// No unknown token unless the tokenizer says otherwise.
    public var unknownTokenID: Int? { nil }
}
