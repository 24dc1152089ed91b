import PEFTNN
import PEFTTensor

extension LlamaForCausalLM: AdaptableModel {
    /// Hugging Face PEFT's default targets for `llama` and `mistral`.
    public static let defaultTargets = DefaultTargetModules(
        lora: ["q_proj", "v_proj"], ia3: ["k_proj", "v_proj", "down_proj"],
        ia3FeedForward: ["down_proj"])

    /// Hugging Face PEFT's default targets for `qwen2` and `qwen3`: IA3 scales `q_proj`, not `k_proj`.
    public static let qwenDefaultTargets = DefaultTargetModules(
        lora: ["q_proj", "v_proj"], ia3: ["q_proj", "v_proj", "down_proj"],
        ia3FeedForward: ["down_proj"])

    /// `llama`, `mistral`, `qwen2` or `qwen3`.
    public var modelType: String { configuration.modelType }

    /// Decoder-only.
    public var architecture: ModelArchitecture { .causal }

    /// This family's row of PEFT's tables.
    var targets: DefaultTargetModules {
        modelType.hasPrefix("qwen") ? Self.qwenDefaultTargets : Self.defaultTargets
    }

    /// PEFT's table row for this `model_type`.
    public func defaultTargetModules(for peftType: String) -> [String]? {
        // PEFT's AdaLoRA table has no `mistral` row: the targets must be named.
        if peftType == "ADALORA" && modelType == "mistral" { return nil }
        return targets.targets(for: peftType)
    }

    /// IA3 scales the input of `down_proj`.
    public func defaultFeedForwardModules(for peftType: String) -> [String]? {
        targets.feedForwardModules(for: peftType)
    }

    /// `self_attn.o_proj`, `mlp.down_proj` and `mlp`.
    public var blockLayout: TransformerBlockLayout {
        TransformerBlockLayout(
            attentionOutput: ["self_attn.o_proj"], feedForwardOutput: ["mlp.down_proj"],
            feedForward: ["mlp"])
    }

    /// `lm_head` when the head is untied; a tied head is the token embedding, no module of its own.
    public var outputHeadPaths: [String] { outputHead == nil ? [] : ["lm_head"] }

    /// Width, layers, heads, key/value heads and head width from the configuration.
    ///
    /// Prefix tuning sizes each layer's keys by the key/value heads, `num_key_value_heads · head_dim`,
    /// as PEFT's `_prepare_prompt_learning_config` does for grouped-query attention.
    public var attentionLayout: AttentionLayout {
        AttentionLayout(
            width: configuration.hiddenSize, prefixLayers: configuration.layerCount,
            heads: configuration.headCount, keyValueHeads: configuration.keyValueHeadCount,
            headDimension: configuration.headDimension)
    }

    /// `model.embed_tokens`.
    public var wordEmbeddingTable: Tensor { model.tokenEmbedding.weight }
}
