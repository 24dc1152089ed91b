import PEFTNN

/// The hyperparameters of a Llama-family decoder (`llama`, `mistral`, `qwen2`, `qwen3`), read from
/// Hugging Face's `config.json`.
///
/// The four share one shape and differ in a few switches, which ``modelType`` settles as `transformers`
/// hard-codes them: Qwen2 always has q/k/v biases and no output bias, Mistral has no biases at all,
/// Qwen3 normalises each query and key head, and only Mistral and Qwen slide their attention window.
public struct LlamaConfiguration: Decodable, Equatable, Sendable {
    /// `model_type`: `llama`, `mistral`, `qwen2` or `qwen3`.
    public var modelType: String = "llama"
    /// `vocab_size`, V.
    public var vocabularySize: Int = 32000
    /// `hidden_size`, the model width C.
    public var hiddenSize: Int = 4096
    /// `intermediate_size`, the feed-forward width.
    public var intermediateSize: Int = 11008
    /// `num_hidden_layers`.
    public var layerCount: Int = 32
    /// `num_attention_heads`, the query heads H.
    public var headCount: Int = 32
    /// `num_key_value_heads` as written; `nil` means ``headCount`` (no grouping).
    public var keyValueHeads: Int?
    /// `head_dim` as written; `nil` means C / H (Qwen3 without the key: 128).
    public var explicitHeadDimension: Int?
    /// `hidden_act`, the gate's non-linearity (`silu`).
    public var hiddenActivation: String = "silu"
    /// `max_position_embeddings`.
    public var maximumPositions: Int = 2048
    /// `rms_norm_eps`.
    public var rmsNormEpsilon: Float = 1e-6
    /// `attention_bias`: biases on the attention projections (Llama: all four; Qwen3: all four).
    public var attentionBias: Bool = false
    /// `mlp_bias` (Llama only).
    public var mlpBias: Bool = false
    /// `attention_dropout`, applied to the attention probabilities while training.
    public var attentionDropout: Float = 0
    /// `initializer_range`, the standard deviation of freshly initialised weights.
    public var initializerRange: Float = 0.02
    /// `tie_word_embeddings`: whether `lm_head` is the token embedding matrix.
    public var tieWordEmbeddings: Bool = false
    /// `bos_token_id`.
    public var bosTokenID: Int? = 1
    /// `eos_token_id`, a number or a list in `config.json`.
    public var eosTokenIDs: [Int] = [2]
    /// `pad_token_id`.
    public var padTokenID: Int?
    /// The rotary embedding, from `rope_parameters` or the legacy `rope_scaling` and `rope_theta`.
    public var rope = RotaryEmbeddingParameters()
    /// The attention window of the layers that slide (`sliding_window`, after `use_sliding_window`).
    public var slidingWindow: Int?
    /// `layer_types` (`full_attention` or `sliding_attention` per layer), Qwen's; `nil` for Llama and
    /// Mistral.
    public var layerTypes: [String]?

    /// The `model_type`s this configuration describes.
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "qwen3"]

    /// A configuration with Llama's defaults, changed by `configure`.
    public init(_ configure: (inout LlamaConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case keyValueHeadCount = "num_key_value_heads"
        case headDimension = "head_dim"
        case hiddenActivation = "hidden_act"
        case maximumPositions = "max_position_embeddings"
        case rmsNormEpsilon = "rms_norm_eps"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case attentionDropout = "attention_dropout"
        case initializerRange = "initializer_range"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case ropeTheta = "rope_theta"
        case partialRotaryFactor = "partial_rotary_factor"
        case originalMaximumPositions = "original_max_position_embeddings"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
    }

    /// Reads a configuration, taking `transformers`' default for every key that is absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        modelType = try value(.modelType, modelType)
        vocabularySize = try value(.vocabularySize, vocabularySize)
        hiddenSize = try value(.hiddenSize, hiddenSize)
        intermediateSize = try value(.intermediateSize, intermediateSize)
        layerCount = try value(.layerCount, layerCount)
        headCount = try value(.headCount, headCount)
        keyValueHeads = try container.decodeIfPresent(Int.self, forKey: .keyValueHeadCount)
        explicitHeadDimension = try container.decodeIfPresent(Int.self, forKey: .headDimension)
        if modelType == "qwen3" && !container.contains(.headDimension) {
            explicitHeadDimension = 128
        }
        hiddenActivation = try value(.hiddenActivation, hiddenActivation)
        maximumPositions = try value(.maximumPositions, maximumPositions)
        rmsNormEpsilon = try value(.rmsNormEpsilon, rmsNormEpsilon)
        attentionBias = try value(.attentionBias, attentionBias)
        mlpBias = try value(.mlpBias, mlpBias)
        attentionDropout = try value(.attentionDropout, attentionDropout)
        initializerRange = try value(.initializerRange, initializerRange)
        tieWordEmbeddings = try value(.tieWordEmbeddings, tieWordEmbeddings)
        bosTokenID = try container.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? bosTokenID
        if container.contains(.eosTokenID) {
            if try container.decodeNil(forKey: .eosTokenID) {
                eosTokenIDs = []
            } else if let single = try? container.decode(Int.self, forKey: .eosTokenID) {
                eosTokenIDs = [single]
            } else {
                eosTokenIDs = try container.decode([Int].self, forKey: .eosTokenID)
            }
        }
        padTokenID = try container.decodeIfPresent(Int.self, forKey: .padTokenID)

        // `rope_scaling` wins over `rope_parameters` when both are present, as in `transformers`.
        let scaling = try container.decodeIfPresent(
            RotaryEmbeddingParameters.Object.self, forKey: .ropeScaling)
        let parameters = try container.decodeIfPresent(
            RotaryEmbeddingParameters.Object.self, forKey: .ropeParameters)
        rope = RotaryEmbeddingParameters(
            object: scaling ?? parameters,
            sourceKey: scaling != nil ? "rope_scaling" : "rope_parameters",
            topLevelTheta: try container.decodeIfPresent(Double.self, forKey: .ropeTheta),
            topLevelPartialRotaryFactor: try container.decodeIfPresent(
                Double.self, forKey: .partialRotaryFactor),
            topLevelOriginalMaximumPositions: try container.decodeIfPresent(
                Int.self, forKey: .originalMaximumPositions))

        let window: Int?
        if container.contains(.slidingWindow) {
            window = try container.decodeIfPresent(Int.self, forKey: .slidingWindow)
        } else {
            window = modelType == "llama" ? nil : 4096
        }
        switch modelType {
        case "mistral":
            slidingWindow = window
        case "qwen2", "qwen3":
            slidingWindow = try value(.useSlidingWindow, false) ? window : nil
            let windowFrom = try value(.maxWindowLayers, 28)
            layerTypes =
                try container.decodeIfPresent([String].self, forKey: .layerTypes)
                // A count past the limit gets no table: validate() refuses it by name.
                ?? (0..<min(max(layerCount, 0), Self.maximumLayerCount + 1)).map {
                    slidingWindow != nil && $0 >= windowFrom
                        ? "sliding_attention" : "full_attention"
                }
        default:
            slidingWindow = nil
        }
    }

    /// The key/value heads: `num_key_value_heads`, or ``headCount`` when it is absent.
    public var keyValueHeadCount: Int { keyValueHeads ?? headCount }

    /// The width of one head: `head_dim`, or C / H when it is absent.
    public var headDimension: Int { explicitHeadDimension ?? hiddenSize / max(headCount, 1) }

    /// The first end-of-sequence token id, if any.
    public var eosTokenID: Int? { eosTokenIDs.first }

    /// Whether q, k and v have biases: always for Qwen2, never for Mistral, `attention_bias` otherwise.
    public var hasQueryKeyValueBias: Bool {
        switch modelType {
        case "qwen2": true
        case "mistral": false
        default: attentionBias
        }
    }

    /// Whether `o_proj` has a bias: `attention_bias` for Llama and Qwen3, never for Qwen2 and Mistral.
    public var hasOutputBias: Bool {
        modelType == "llama" || modelType == "qwen3" ? attentionBias : false
    }

    /// Whether the feed-forward projections have biases: `mlp_bias`, read by Llama only.
    public var hasFeedForwardBias: Bool { modelType == "llama" && mlpBias }

    /// Whether each query and key head passes through an RMSNorm before the rotation (Qwen3).
    public var hasQueryKeyNorm: Bool { modelType == "qwen3" }

    /// The attention window of layer `index`, or `nil` when it attends to every earlier position.
    public func slidingWindow(forLayer index: Int) -> Int? {
        guard let slidingWindow else { return nil }
        guard let layerTypes else { return slidingWindow }
        return layerTypes[index] == "sliding_attention" ? slidingWindow : nil
    }

    /// The most decoder layers a configuration may ask for: far above any released model (Llama
    /// 3.1 405B has 126), low enough that a mistyped count cannot exhaust memory before loading
    /// finds it does not match the weights.
    public static let maximumLayerCount = 4096

    /// Checks the values a model cannot be built from, naming the key at fault.
    public func validate(file: String = "config.json") throws {
        try require(
            Self.supportedModelTypes.contains(modelType), file, "model_type",
            "'\(modelType)' is not a Llama-family type (\(Self.supportedModelTypes.joined(separator: ", ")))"
        )
        try require(
            vocabularySize > 0, file, "vocab_size", "must be positive, got \(vocabularySize)")
        try require(hiddenSize > 0, file, "hidden_size", "must be positive, got \(hiddenSize)")
        try require(
            intermediateSize > 0, file, "intermediate_size",
            "must be positive, got \(intermediateSize)")
        try require(
            (0...Self.maximumLayerCount).contains(layerCount), file, "num_hidden_layers",
            "must be in 0...\(Self.maximumLayerCount), got \(layerCount)")
        try require(
            headCount > 0, file, "num_attention_heads", "must be positive, got \(headCount)")
        try require(
            keyValueHeadCount > 0 && headCount % keyValueHeadCount == 0, file,
            "num_key_value_heads",
            "\(keyValueHeadCount) must be a positive divisor of num_attention_heads (\(headCount))")
        if explicitHeadDimension == nil {
            try require(
                hiddenSize % headCount == 0, file, "hidden_size",
                "\(hiddenSize) must be a multiple of num_attention_heads (\(headCount)) when head_dim is absent"
            )
        }
        try require(
            headDimension > 0 && headDimension % 2 == 0, file, "head_dim",
            "must be positive and even for rotary embeddings, got \(headDimension)")
        try require(
            maximumPositions > 0, file, "max_position_embeddings",
            "must be positive, got \(maximumPositions)")
        try require(
            rmsNormEpsilon > 0, file, "rms_norm_eps", "must be positive, got \(rmsNormEpsilon)")
        try require(
            Activation(huggingFaceName: hiddenActivation) != nil, file, "hidden_act",
            "unsupported activation '\(hiddenActivation)'")
        try require(
            attentionDropout >= 0 && attentionDropout < 1, file, "attention_dropout",
            "must be in [0, 1), got \(attentionDropout)")
        try require(
            eosTokenIDs.allSatisfy { (0..<vocabularySize).contains($0) }, file, "eos_token_id",
            "\(eosTokenIDs) must be token ids below vocab_size (\(vocabularySize))")
        if let slidingWindow {
            try require(
                slidingWindow > 0, file, "sliding_window", "must be positive, got \(slidingWindow)")
        }
        if let layerTypes {
            try require(
                layerTypes.count == layerCount
                    && layerTypes.allSatisfy {
                        ["full_attention", "sliding_attention"].contains($0)
                    },
                file, "layer_types",
                "must list full_attention or sliding_attention for each of the \(layerCount) layers"
            )
        }
        try rope.validate(file: file)
    }
}
