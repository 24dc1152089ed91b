import PEFTNN
import PEFTTensor

extension LlamaForSequenceClassification: AdaptableModelWithTargetTable {
    /// Llama's and Mistral's row of PEFT's tables; Qwen's row differs for IA3 and is picked per
    /// instance below, as `LlamaForCausalLM` does.
    public static var defaultTargets: DefaultTargetModules { LlamaForCausalLM.defaultTargets }

    /// This `model_type`'s row of PEFT's tables.
    var targets: DefaultTargetModules {
        modelType.hasPrefix("qwen") ? LlamaForCausalLM.qwenDefaultTargets : Self.defaultTargets
    }

    /// PEFT's table row for this `model_type`.
    public func defaultTargetModules(for peftType: String) -> [String]? {
        targets.targets(for: peftType)
    }

    /// IA3 scales the input of `down_proj`.
    public func defaultFeedForwardModules(for peftType: String) -> [String]? {
        targets.feedForwardModules(for: peftType)
    }

    /// `llama`, `mistral`, `qwen2` or `qwen3`.
    public var modelType: String { configuration.modelType }

    /// Decoder-only.
    public var architecture: ModelArchitecture { .causal }

    /// `self_attn.o_proj`, `mlp.down_proj` and `mlp`.
    public var blockLayout: TransformerBlockLayout {
        TransformerBlockLayout(
            attentionOutput: ["self_attn.o_proj"], feedForwardOutput: ["mlp.down_proj"],
            feedForward: ["mlp"])
    }

    /// `score`: trained in full as PEFT's `modules_to_save`, never wrapped by `all-linear`.
    public var outputHeadPaths: [String] { ["score"] }

    /// Width, layers, heads, key/value heads and head width from the configuration.
    public var attentionLayout: AttentionLayout {
        AttentionLayout(
            width: configuration.hiddenSize, prefixLayers: configuration.layerCount,
            heads: configuration.headCount, keyValueHeads: configuration.keyValueHeadCount,
            headDimension: configuration.headDimension)
    }

    /// `model.embed_tokens`.
    public var wordEmbeddingTable: Tensor { model.tokenEmbedding.weight }
}
