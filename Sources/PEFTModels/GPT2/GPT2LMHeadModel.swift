import Foundation
import PEFTNN
import PEFTTensor

/// GPT-2 with its language-model head: the body, then logits through the (tied) token embeddings.
///
/// Parameter paths are Hugging Face's (`transformer.h.0.attn.c_attn.weight`), so a `model.safetensors`
/// from a GPT-2-family folder loads by name, and adapters trained here mean the same in Python.
public final class GPT2LMHeadModel: Module {
    /// The transformer body, key `transformer`.
    @Child(key: "transformer") public var transformer: GPT2Model
    /// A separate output matrix `[V, C]` when the configuration unties it, key `lm_head`.
    @Child(key: "lm_head") public var outputHead: Linear?
    /// The configuration the model was built from.
    public let configuration: GPT2Configuration

    /// Creates a randomly initialised model, as Hugging Face initialises GPT-2; `seed` draws the weights
    /// and seeds the dropout layers (`reseedDropouts(seed:)`).
    public init(configuration: GPT2Configuration, seed: UInt64 = 0) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: seed)
        super.init()
        transformer = GPT2Model(configuration: configuration, using: &generator)
        outputHead =
            configuration.tieWordEmbeddings
            ? nil
            : Linear(
                weight: Tensor.normal(
                    [configuration.vocabularySize, configuration.embeddingSize],
                    standardDeviation: configuration.initializerRange, using: &generator))
        // Every block's dropouts are built alike; seeding each from its path keeps their masks apart.
        reseedDropouts(seed: seed)
    }

    /// Loads a model from a Hugging Face folder (`config.json` and `model.safetensors` or shards).
    public convenience init(contentsOf folder: URL) throws {
        try self.init(checkpoint: CheckpointFolder(folder))
    }

    /// Loads a model from an opened checkpoint folder.
    public convenience init(checkpoint: CheckpointFolder) throws {
        guard checkpoint.modelType == "gpt2" else {
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: ["gpt2"])
        }
        let configuration = try checkpoint.decodeConfiguration(GPT2Configuration.self)
        try configuration.validate(file: checkpoint.configurationPath)
        let weights = try checkpoint.weights()
        let (vocabulary, width) = (configuration.vocabularySize, configuration.embeddingSize)
        let last = configuration.layerCount - 1
        try checkpoint.check(
            weights,
            holds: [
                (
                    ["transformer.wte.weight", "wte.weight"], [vocabulary, width],
                    "vocab_size, n_embd"
                ),
                (
                    ["transformer.h.\(last).mlp.c_fc.weight", "h.\(last).mlp.c_fc.weight"],
                    [width, configuration.feedForwardSize], "n_layer, n_embd, n_inner"
                ),
            ])
        self.init(configuration: configuration)
        // Older checkpoints omit the `transformer.` prefix; causal-mask buffers and a tied head are not
        // parameters here.
        let tied = configuration.tieWordEmbeddings
        do {
            try loadParameters(from: weights, strict: true) { key in
                if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") { return nil }
                if key == "lm_head.weight" && tied { return nil }
                if key.hasPrefix("transformer.") || key.hasPrefix("lm_head.") { return key }
                return "transformer.\(key)"
            }
        } catch let error as ModuleTreeError {
            throw ModelLoadingError.checkpoint(file: checkpoint.url.path, reason: error.description)
        }
    }

    /// The next-token loss computed a block of rows at a time from the final hidden states and the
    /// tied table, so the `[B, T, V]` logits never exist
    /// (``causalLanguageModelingLoss(hidden:head:labels:)``).
    public func languageModelingLoss(_ inputs: DecoderInputs, labels: [[Int]]) -> Tensor {
        guard let head = transformer.tokenEmbedding.tiedHeadWeight else {
            return causalLanguageModelingLoss(logits: self(inputs), labels: labels)
        }
        return causalLanguageModelingLoss(hidden: transformer(inputs), head: head, labels: labels)
    }

    /// Logits `[B, T, V]` for every input position.
    public func callAsFunction(_ inputs: DecoderInputs) -> Tensor {
        let hidden = transformer(inputs)
        if let outputHead { return outputHead(hidden) }
        return transformer.tokenEmbedding.tiedHeadLogits(hidden)
    }

    /// Logits `[B, T, V]` for a batch of token ids.
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        self(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }
}
