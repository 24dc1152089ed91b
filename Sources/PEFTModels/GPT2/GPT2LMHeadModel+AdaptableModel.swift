import PEFTNN
import PEFTTensor

extension GPT2LMHeadModel: AdaptableModelWithTargetTable {
    /// Hugging Face PEFT's default targets for `gpt2`.
    public static let defaultTargets = DefaultTargetModules(
        lora: ["c_attn"], ia3: ["c_attn", "mlp.c_proj"], ia3FeedForward: ["mlp.c_proj"])

    /// `gpt2` (or the `model_type` the configuration names).
    public var modelType: String { configuration.modelType }

    /// Decoder-only.
    public var architecture: ModelArchitecture { .causal }

    /// `attn.c_proj`, `mlp.c_proj` and `mlp`.
    public static let blockLayout = TransformerBlockLayout(
        attentionOutput: ["attn.c_proj"], feedForwardOutput: ["mlp.c_proj"], feedForward: ["mlp"])

    /// `attn.c_proj`, `mlp.c_proj` and `mlp`.
    public var blockLayout: TransformerBlockLayout { Self.blockLayout }

    /// `lm_head` when the head is untied; a tied head is the token embedding, no module of its own.
    public var outputHeadPaths: [String] { outputHead == nil ? [] : ["lm_head"] }

    /// Width, layers and heads from the configuration.
    public var attentionLayout: AttentionLayout { configuration.attentionLayout }

    /// `transformer.wte`.
    public var wordEmbeddingTable: Tensor { transformer.tokenEmbedding.weight }
}

extension GPT2Configuration {
    /// Width, layers and heads: every layer takes prefixes.
    public var attentionLayout: AttentionLayout {
        AttentionLayout(width: embeddingSize, prefixLayers: layerCount, heads: headCount)
    }
}
