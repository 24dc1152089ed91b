import Foundation
import PEFTNN
import PEFTTensor

/// A Llama-family decoder with its language-model head: Llama 2 and 3, Mistral, Qwen2 and Qwen3
/// (and the checkpoints built on them: SmolLM, TinyLlama, Qwen2.5).
///
/// Parameter paths are Hugging Face's (`model.layers.0.self_attn.q_proj.weight`, `lm_head.weight`), so a
/// folder's safetensors load by name and LoRA's target names are the ones Hugging Face PEFT uses.
public final class LlamaForCausalLM: Module {
    /// The body, key `model`.
    @Child(key: "model") public var model: LlamaModel
    /// A separate output matrix `[V, C]` when the embeddings are untied, key `lm_head`.
    @Child(key: "lm_head") public var outputHead: Linear?
    /// The configuration the model was built from.
    public let configuration: LlamaConfiguration

    /// The `model_type` values this class loads.
    public static let supportedModelTypes = LlamaConfiguration.supportedModelTypes

    /// Creates a randomly initialised model, as Hugging Face initialises it; `seed` draws the weights
    /// and seeds the dropout layers (`reseedDropouts(seed:)`).
    public init(configuration: LlamaConfiguration, seed: UInt64 = 0) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: seed)
        super.init()
        model = LlamaModel(configuration: configuration, using: &generator)
        outputHead =
            configuration.tieWordEmbeddings
            ? nil
            : Linear(
                weight: Tensor.normal(
                    [configuration.vocabularySize, configuration.hiddenSize],
                    standardDeviation: configuration.initializerRange, using: &generator))
        // Every block's dropouts are built alike; seeding each from its path keeps their masks apart.
        reseedDropouts(seed: seed)
    }

    /// Loads a model from a Hugging Face folder (`config.json` and `model.safetensors` or shards).
    public convenience init(contentsOf folder: URL) throws {
        try self.init(checkpoint: CheckpointFolder(folder))
    }

    /// Loads a model from an opened checkpoint folder; bf16 and fp16 weights convert to Float32.
    public convenience init(checkpoint: CheckpointFolder) throws {
        guard Self.supportedModelTypes.contains(checkpoint.modelType) else {
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: Self.supportedModelTypes)
        }
        let configuration = try checkpoint.decodeConfiguration(LlamaConfiguration.self)
        try configuration.validate(file: checkpoint.configurationPath)
        // The weights are opened first: a folder without them fails at once, before a model of the
        // configuration's size (7B parameters by Llama's defaults) is allocated for nothing.
        let weights = try checkpoint.weights()
        let (vocabulary, hidden) = (configuration.vocabularySize, configuration.hiddenSize)
        let last = configuration.layerCount - 1
        try checkpoint.check(
            weights,
            holds: [
                (
                    ["model.embed_tokens.weight", "lm_head.weight"], [vocabulary, hidden],
                    "vocab_size, hidden_size"
                ),
                (
                    ["model.layers.\(last).mlp.gate_proj.weight"],
                    [configuration.intermediateSize, hidden],
                    "num_hidden_layers, intermediate_size, hidden_size"
                ),
            ])
        self.init(configuration: configuration)
        let names = Set(weights.tensorNames)
        // A tied head is the embedding: either copy may be the one saved. Older checkpoints also carry
        // the rotary `inv_freq` buffers, which are computed here.
        let tied = configuration.tieWordEmbeddings
        let headOnly = tied && !names.contains("model.embed_tokens.weight")
        do {
            try loadParameters(from: weights, strict: true) { key in
                if key.hasSuffix(".rotary_emb.inv_freq") { return nil }
                if key == "lm_head.weight" && tied {
                    return headOnly ? "model.embed_tokens.weight" : nil
                }
                return key
            }
        } catch let error as ModuleTreeError {
            throw ModelLoadingError.checkpoint(file: checkpoint.url.path, reason: error.description)
        }
    }

    /// The next-token loss computed a block of rows at a time from the final hidden states, so the
    /// `[B, T, V]` logits never exist (``causalLanguageModelingLoss(hidden:head:labels:)``).
    public func languageModelingLoss(_ inputs: DecoderInputs, labels: [[Int]]) -> Tensor {
        guard let head = outputHead?.$weight.outputHeadWeight ?? model.tokenEmbedding.tiedHeadWeight
        else {
            return causalLanguageModelingLoss(logits: self(inputs), labels: labels)
        }
        return causalLanguageModelingLoss(hidden: model(inputs), head: head, labels: labels)
    }

    /// Logits `[B, T, V]` for every input position.
    public func callAsFunction(_ inputs: DecoderInputs) -> Tensor {
        let hidden = model(inputs)
        if let outputHead { return outputHead(hidden) }
        return model.tokenEmbedding.tiedHeadLogits(hidden)
    }

    /// Logits `[B, T, V]` for a batch of token ids.
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        self(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }
}
