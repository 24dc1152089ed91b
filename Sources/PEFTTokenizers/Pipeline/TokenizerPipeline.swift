// The encoding pipeline of HF `tokenizers`, stage by stage: added tokens are found in the raw
// text, the rest is normalized (and searched again for normalized added tokens), pre-tokenized
// into pieces, tokenized by the model, and wrapped in special tokens by the post-processor.

import Foundation

/// The stages of a tokenizer as tokenizer.json describes them, which ``PipelineTokenizer`` runs;
/// they are read and run inside this module only.
public struct TokenizerPipeline: Sendable {
    var addedTokens: [AddedToken]
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var model: TokenizerModel
    var postProcessor: PostProcessor?
    var decoder: TokenDecoder?

    private var rawMatcher: AddedTokenMatcher
    private var normalizedMatcher: AddedTokenMatcher
    private var addedTokensByID: [Int: AddedToken]

    init(
        addedTokens: [AddedToken], normalizer: Normalizer?, preTokenizer: PreTokenizer?,
        model: TokenizerModel, postProcessor: PostProcessor?, decoder: TokenDecoder?
    ) {
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder
        rawMatcher = AddedTokenMatcher(tokens: addedTokens.filter { !$0.isNormalized })
        normalizedMatcher = AddedTokenMatcher(
            tokens: addedTokens.filter(\.isNormalized),
            contents: { normalizer?.normalize($0.content) ?? $0.content })
        addedTokensByID = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    }

    /// The same stages with the added-token matchers built again, after a stage was replaced.
    func rebuildingMatchers() -> TokenizerPipeline {
        TokenizerPipeline(
            addedTokens: addedTokens, normalizer: normalizer, preTokenizer: preTokenizer,
            model: model, postProcessor: postProcessor, decoder: decoder)
    }

    /// Reads a tokenizer.json file.
    init(contentsOf url: URL) throws(TokenizerError) {
        let root = try JSONNode.load(contentsOf: url)
        guard case .object? = root.value else { throw root.mismatch("a JSON object") }
        var addedTokens: [AddedToken] = []
        if !root["added_tokens"].isNull {
            for node in try root["added_tokens"].array() {
                addedTokens.append(try AddedToken(node: node))
            }
        }
        let model = root["model"]
        guard !model.isNull else { throw model.mismatch("an object") }
        self.init(
            addedTokens: addedTokens,
            normalizer: root["normalizer"].isNull ? nil : try Normalizer(node: root["normalizer"]),
            preTokenizer: root["pre_tokenizer"].isNull
                ? nil : try PreTokenizer(node: root["pre_tokenizer"]),
            model: try TokenizerModel(node: model),
            postProcessor: root["post_processor"].isNull
                ? nil : try PostProcessor(node: root["post_processor"]),
            decoder: root["decoder"].isNull ? nil : try TokenDecoder(node: root["decoder"]))
    }

    /// Returns the ids of `text`, with the post-processor's special tokens when
    /// `addingSpecialTokens` is true.
    func encode(_ text: String, addingSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        for segment in rawMatcher.split(text, startsInput: true) {
            guard case .text(let raw, let startsInput) = segment else {
                if case .token(let id) = segment { ids.append(id) }
                continue
            }
            let normalized = normalizer?.normalize(raw) ?? raw
            for inner in normalizedMatcher.split(normalized, startsInput: startsInput) {
                switch inner {
                case .token(let id):
                    ids.append(id)
                case .text(let text, let startsInput):
                    let piece = PreToken(text: text, startsInput: startsInput)
                    for piece in preTokenizer?.split([piece]) ?? [piece] {
                        ids.append(contentsOf: model.tokenize(piece.text))
                    }
                }
            }
        }
        guard addingSpecialTokens, let postProcessor else { return ids }
        return postProcessor.process(ids)
    }

    /// Returns the text of `ids`; unknown ids are skipped, and special tokens too when
    /// `skippingSpecialTokens` is true.
    func decode(_ ids: [Int], skippingSpecialTokens: Bool) -> String {
        let tokens = ids.compactMap { id -> String? in
            if let added = addedTokensByID[id] {
                return skippingSpecialTokens && added.isSpecial ? nil : added.content
            }
            return model.vocabulary.token(for: id)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens).joined()
    }

    /// The id of `token`, an added token or one of the model's.
    func id(for token: String) -> Int? {
        addedTokens.first { scalarsEqual($0.content, token) }?.id ?? model.vocabulary.id(for: token)
    }

    /// The text of the token with `id`.
    func token(for id: Int) -> String? {
        addedTokensByID[id]?.content ?? model.vocabulary.token(for: id)
    }

    /// One more than the largest id of the model and the added tokens.
    var vocabularySize: Int {
        max(model.vocabulary.upperBound, (addedTokens.map(\.id).max() ?? -1) + 1)
    }
}
