// transformers 5 does not always run tokenizer.json as written: a `tokenizer_class` with its own
// constructor keeps the file's vocabulary, merges, added tokens and post-processor but installs
// its own normalizer, pre-tokenizer and decoder (`tokenization_llama.py`, `tokenization_qwen2.py`,
// `tokenization_gpt2.py`). Matching `tokenizer(text)` means doing the same.

extension TokenizerPipeline {
    /// The pipeline `transformers` runs for this file when `tokenizer_config.json` names
    /// `configuration.tokenizerClass`; unchanged for classes that load the file as it is
    /// (`PreTrainedTokenizerFast`, `TokenizersBackend`) and for models other than BPE.
    func adapted(to configuration: TokenizerConfiguration) -> TokenizerPipeline {
        guard case .bytePairEncoding(let model) = model,
            let name = configuration.tokenizerClass.map(Self.baseClassName)
        else { return self }
        var pipeline = self
        switch name {
        case "LlamaTokenizer":
            // A byte-level file declared as LlamaTokenizer (Llama 3 style) loads as it is.
            guard !isByteLevel else { return self }
            let addPrefixSpace = configuration.addPrefixSpace ?? true
            let scheme: PrependScheme =
                addPrefixSpace ? (configuration.legacy ?? false ? .always : .first) : .never
            pipeline.normalizer = nil
            pipeline.preTokenizer = .metaspace(
                replacement: "\u{2581}", scheme: scheme, split: false)
            var decoders: [TokenDecoder] = [
                .replace(pattern: .literal(Array("\u{2581}".utf8)), content: " "), .byteFallback,
                .fuse,
            ]
            if addPrefixSpace { decoders.append(.strip(content: " ", start: 1, stop: 0)) }
            pipeline.decoder = .sequence(decoders)
            pipeline.model = .bytePairEncoding(
                model.reconfigured(
                    unknownID: nil, fuseUnknown: true, byteFallback: true, ignoreMerges: false))
        case "Qwen2Tokenizer":
            pipeline.normalizer = .nfc
            pipeline.preTokenizer = .sequence([
                .split(
                    pattern: .llama3(Llama3Pattern(digitRun: 1)), behavior: .isolated,
                    invert: false),
                .byteLevel(addPrefixSpace: configuration.addPrefixSpace ?? false, useRegex: false),
            ])
            pipeline.decoder = .byteLevel
            pipeline.model = .bytePairEncoding(
                model.reconfigured(
                    unknownID: nil, fuseUnknown: false, byteFallback: false, ignoreMerges: false))
        case "GPT2Tokenizer":
            pipeline.preTokenizer = .byteLevel(
                addPrefixSpace: configuration.addPrefixSpace ?? false, useRegex: true)
            pipeline.decoder = .byteLevel
            pipeline.model = .bytePairEncoding(
                model.reconfigured(
                    unknownID: model.unknownID, fuseUnknown: false, byteFallback: false,
                    ignoreMerges: false))
        default:
            return self
        }
        return pipeline.rebuildingMatchers()
    }

    /// `LlamaTokenizerFast` is an alias of `LlamaTokenizer` in transformers 5, and so on.
    static func baseClassName(_ name: String) -> String {
        name.hasSuffix("Fast") ? String(name.dropLast(4)) : name
    }

    /// Whether the pre-tokenizer or the decoder is byte-level, which is how transformers tells a
    /// Llama-3-style file declared as `LlamaTokenizer` from a SentencePiece-style one.
    var isByteLevel: Bool {
        if preTokenizer?.isByteLevel ?? false { return true }
        return decoder?.isByteLevel ?? false
    }
}
