import Foundation

/// T5's Unigram tokenizer, read from the tokenizer.json Hugging Face writes for it.
///
/// Text is normalized, cut at whitespace, each word is prefixed with `▁`, and the Viterbi path
/// through the scored vocabulary gives the pieces. `encode` appends `</s>`, and `<pad>`, `</s>`,
/// `<unk>` and the `<extra_id_N>` sentinels in the text are their own tokens:
///
/// ```swift
/// let tokenizer = try T5Tokenizer(contentsOf: folder)
/// let ids = tokenizer.encode("The <extra_id_0> walks")   // ends with eosTokenID
/// tokenizer.decode(ids)                                  // "The<extra_id_0> walks</s>"
/// tokenizer.decode(ids, skippingSpecialTokens: true)     // "The walks"
/// ```
///
/// Supported components: the `Precompiled`, `NFC`/`NFD`/`NFKC`/`NFKD`, `Lowercase`, `Strip`,
/// `Replace`, `Prepend` and `Sequence` normalizers; the `Metaspace`, `WhitespaceSplit`,
/// `ByteLevel` and `Sequence` pre-tokenizers; `TemplateProcessing` for single sequences. Others
/// throw ``TokenizerError/unsupportedComponent(file:key:type:)``. A SentencePiece `spiece.model`
/// alone cannot be read; convert it to tokenizer.json with `transformers` first.
public struct T5Tokenizer: PipelineTokenizer {
    /// The stages read from the tokenizer's files.
    public let pipeline: TokenizerPipeline

    /// Loads `tokenizer.json` from `directory`.
    public init(contentsOf directory: URL) throws(TokenizerError) {
        try self.init(tokenizerFile: directory.appendingPathComponent("tokenizer.json"))
    }

    /// Loads a Hugging Face tokenizer.json whose model is `Unigram`.
    public init(tokenizerFile: URL) throws(TokenizerError) {
        let pipeline = try TokenizerPipeline(contentsOf: tokenizerFile)
        guard case .unigram = pipeline.model else {
            throw .unexpectedModel(
                file: tokenizerFile.lastPathComponent, expected: "Unigram", found: "BPE")
        }
        self.pipeline = pipeline
    }

    /// Wraps stages already read, whose model is the one this tokenizer needs.
    init(pipeline: TokenizerPipeline) {
        self.pipeline = pipeline
    }

    /// The id of `</s>`.
    public var eosTokenID: Int? { pipeline.id(for: "</s>") }

    /// The id of `<pad>`, which T5 also uses to start decoder inputs.
    public var padTokenID: Int? { pipeline.id(for: "<pad>") }

    /// The id of sentinel `<extra_id_N>`, which marks the N-th masked span.
    public func sentinelTokenID(_ index: Int) -> Int? {
        pipeline.id(for: "<extra_id_\(index)>")
    }

}
