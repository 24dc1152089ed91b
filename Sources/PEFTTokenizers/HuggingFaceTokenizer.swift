import Foundation

/// A tokenizer folder as `transformers`' `AutoTokenizer` loads it: `tokenizer.json`, adapted to
/// the `tokenizer_class` of `tokenizer_config.json`, with that file's named special tokens.
///
/// This is the tokenizer of the Llama family: Llama 3 and Qwen2 byte-level BPE (a `Split`
/// pre-tokenizer with their regex, `ignore_merges`, NFC), and Llama 2, Mistral and TinyLlama
/// SentencePiece-style BPE (`Prepend`/`Replace` of `▁` or `Metaspace`, byte fallback, fused
/// unknown tokens), with the `TemplateProcessing` post-processor that adds the BOS token.
///
/// ```swift
/// let tokenizer = try HuggingFaceTokenizer(contentsOf: llamaFolder)
/// let ids = tokenizer.encode("Hello")                    // starts with bosTokenID
/// tokenizer.decode(ids, skippingSpecialTokens: true)     // "Hello"
/// ```
///
/// Like `transformers` 5, `encode` adds what the file's post-processor says and ignores the
/// configuration's `add_bos_token`, and a `LlamaTokenizer` folder whose file is not byte-level
/// runs with a Metaspace pre-tokenizer in place of the file's normalizer (which differs from the
/// file only in how text right after an added token starts).
public struct HuggingFaceTokenizer: PipelineTokenizer {
    /// The stages, as `transformers` runs them for this folder.
    public let pipeline: TokenizerPipeline

    /// What `tokenizer_config.json` says; empty when the folder has none.
    public let configuration: TokenizerConfiguration

    /// The id of `bos_token`, or of the post-processor's leading special token when the folder
    /// has no tokenizer_config.json.
    public let bosTokenID: Int?

    /// The id of `eos_token`.
    public let eosTokenID: Int?

    /// The id of `pad_token`.
    public let padTokenID: Int?

    /// The id of `unk_token`, or of the model's unknown token.
    public let unknownTokenID: Int?

    /// Loads `tokenizer.json` and, if present, `tokenizer_config.json` from `directory`.
    public init(contentsOf directory: URL) throws(TokenizerError) {
        try self.init(
            tokenizerFile: directory.appendingPathComponent("tokenizer.json"),
            configuration: try TokenizerConfiguration(
                contentsOf: directory.appendingPathComponent("tokenizer_config.json")))
    }

    /// Loads a tokenizer.json and adapts it to `configuration`.
    public init(tokenizerFile: URL, configuration: TokenizerConfiguration) throws(TokenizerError) {
        self.init(
            pipeline: try TokenizerPipeline(contentsOf: tokenizerFile), configuration: configuration
        )
    }

    /// Adapts the stages of a tokenizer.json to `configuration`.
    init(pipeline file: TokenizerPipeline, configuration: TokenizerConfiguration) {
        var pipeline = file.adapted(to: configuration)
        let defaults = Self.defaultSpecialTokens(configuration.tokenizerClass)
        func named(_ key: String) -> String? {
            let given: String?
            switch key {
            case "bos_token": given = configuration.bosToken
            case "eos_token": given = configuration.eosToken
            case "pad_token": given = configuration.padToken
            default: given = configuration.unknownToken
            }
            return configuration.names(key) ? given : defaults[key]
        }
        let keys = ["bos_token", "eos_token", "pad_token", "unk_token"]
        // transformers registers named special tokens the file lists only in its vocabulary.
        var added = pipeline.addedTokens
        for key in keys {
            guard let text = named(key), !added.contains(where: { scalarsEqual($0.content, text) }),
                let id = pipeline.model.vocabulary.id(for: text)
            else { continue }
            added.append(AddedToken(id: id, content: text))
        }
        if added.count != pipeline.addedTokens.count {
            pipeline.addedTokens = added
            pipeline = pipeline.rebuildingMatchers()
        }
        self.pipeline = pipeline
        self.configuration = configuration
        let ids = keys.map { named($0).flatMap(pipeline.id(for:)) }
        let hasConfiguration =
            !configuration.presentKeys.isEmpty || configuration.tokenizerClass != nil
        bosTokenID = ids[0] ?? (hasConfiguration ? nil : pipeline.postProcessor?.leadingSpecialID)
        eosTokenID = ids[1]
        padTokenID = ids[2]
        unknownTokenID = ids[3] ?? pipeline.model.unknownID
    }

    /// The special tokens a `transformers` class assumes when tokenizer_config.json leaves them
    /// out.
    static func defaultSpecialTokens(_ tokenizerClass: String?) -> [String: String] {
        switch tokenizerClass.map(TokenizerPipeline.baseClassName) {
        case "LlamaTokenizer":
            return ["bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"]
        case "Qwen2Tokenizer":
            let endOfText = "<|endoftext|>"
            return ["eos_token": endOfText, "pad_token": endOfText, "unk_token": endOfText]
        case "GPT2Tokenizer":
            let endOfText = "<|endoftext|>"
            return ["bos_token": endOfText, "eos_token": endOfText, "unk_token": endOfText]
        default:
            return [:]
        }
    }
}
