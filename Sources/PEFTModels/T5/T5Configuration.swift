import PEFTNN

/// The hyperparameters of a T5-family encoder-decoder, read from Hugging Face's `config.json`.
public struct T5Configuration: Codable, Equatable, Sendable {
    /// The number of token ids, V.
    public var vocabularySize: Int = 32128
    /// The model width.
    public var modelSize: Int = 512
    /// The size of one attention head, D.
    public var headSize: Int = 64
    /// The feed-forward width.
    public var feedForwardSize: Int = 2048
    /// The number of encoder blocks.
    public var encoderLayerCount: Int = 6
    /// The number of decoder blocks; `nil` means as many as the encoder.
    public var decoderLayerCount: Int? = nil
    /// The number of attention heads, H.
    public var headCount: Int = 8
    /// The number of relative-position buckets.
    public var relativeAttentionBucketCount: Int = 32
    /// The distance beyond which relative positions share the last bucket.
    public var relativeAttentionMaximumDistance: Int = 128
    /// Dropout everywhere.
    public var dropoutRate: Float = 0.1
    /// Epsilon of every RMS norm.
    public var layerNormEpsilon: Float = 1e-6
    /// The standard deviation factor of the initial weights.
    public var initializerFactor: Float = 1
    /// `relu` (T5 v1.0) or `gated-gelu` (T5 v1.1, Flan-T5), optionally `gated-<act>`.
    public var feedForwardProjection: String = "relu"
    /// Whether `lm_head` shares the `shared` embedding matrix.
    public var tieWordEmbeddings: Bool = true
    /// Whether decoder outputs are multiplied by `d_model^-0.5` before `lm_head`; `nil` follows the tying.
    public var scaleDecoderOutputs: Bool? = nil
    /// The token the decoder starts from.
    public var decoderStartTokenID: Int = 0
    /// The padding token id.
    public var padTokenID: Int = 0
    /// The end-of-sequence token id.
    public var eosTokenID: Int = 1
    /// Always `t5` for this family.
    public var modelType: String = "t5"

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case modelSize = "d_model"
        case headSize = "d_kv"
        case feedForwardSize = "d_ff"
        case encoderLayerCount = "num_layers"
        case decoderLayerCount = "num_decoder_layers"
        case headCount = "num_heads"
        case relativeAttentionBucketCount = "relative_attention_num_buckets"
        case relativeAttentionMaximumDistance = "relative_attention_max_distance"
        case dropoutRate = "dropout_rate"
        case layerNormEpsilon = "layer_norm_epsilon"
        case initializerFactor = "initializer_factor"
        case feedForwardProjection = "feed_forward_proj"
        case tieWordEmbeddings = "tie_word_embeddings"
        case scaleDecoderOutputs = "scale_decoder_outputs"
        case decoderStartTokenID = "decoder_start_token_id"
        case padTokenID = "pad_token_id"
        case eosTokenID = "eos_token_id"
        case modelType = "model_type"
    }

    /// A configuration with Hugging Face's T5 defaults, changed by `configure`.
    public init(_ configure: (inout T5Configuration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Reads a configuration, taking Hugging Face's default for every key that is absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        vocabularySize = try value(.vocabularySize, vocabularySize)
        modelSize = try value(.modelSize, modelSize)
        headSize = try value(.headSize, headSize)
        feedForwardSize = try value(.feedForwardSize, feedForwardSize)
        encoderLayerCount = try value(.encoderLayerCount, encoderLayerCount)
        decoderLayerCount = try container.decodeIfPresent(Int.self, forKey: .decoderLayerCount)
        headCount = try value(.headCount, headCount)
        relativeAttentionBucketCount = try value(
            .relativeAttentionBucketCount, relativeAttentionBucketCount)
        relativeAttentionMaximumDistance = try value(
            .relativeAttentionMaximumDistance, relativeAttentionMaximumDistance)
        dropoutRate = try value(.dropoutRate, dropoutRate)
        layerNormEpsilon = try value(.layerNormEpsilon, layerNormEpsilon)
        initializerFactor = try value(.initializerFactor, initializerFactor)
        feedForwardProjection = try value(.feedForwardProjection, feedForwardProjection)
        tieWordEmbeddings = try value(.tieWordEmbeddings, tieWordEmbeddings)
        scaleDecoderOutputs = try container.decodeIfPresent(Bool.self, forKey: .scaleDecoderOutputs)
        decoderStartTokenID = try value(.decoderStartTokenID, decoderStartTokenID)
        padTokenID = try value(.padTokenID, padTokenID)
        eosTokenID = try value(.eosTokenID, eosTokenID)
        modelType = try value(.modelType, modelType)
    }

    /// The number of decoder blocks.
    public var decoderLayers: Int { decoderLayerCount ?? encoderLayerCount }

    /// Whether the feed-forward is gated (`wi_0`, `wi_1`) rather than plain (`wi`).
    public var isGated: Bool { feedForwardProjection.hasPrefix("gated-") }

    /// The feed-forward non-linearity; `gated-gelu` means GPT-2's tanh GELU, as in Hugging Face.
    public var feedForwardActivation: Activation? {
        let name =
            isGated
            ? String(feedForwardProjection.dropFirst("gated-".count)) : feedForwardProjection
        return name == "gelu" ? .geluNew : Activation(huggingFaceName: name)
    }

    /// Whether decoder outputs are rescaled before the head.
    public var scalesDecoderOutputs: Bool { scaleDecoderOutputs ?? tieWordEmbeddings }

    /// Checks the values a model cannot be built from, naming the key at fault.
    public func validate(file: String = "config.json") throws {
        try require(
            vocabularySize > 0, file, "vocab_size", "must be positive, got \(vocabularySize)")
        try require(modelSize > 0, file, "d_model", "must be positive, got \(modelSize)")
        try require(headSize > 0, file, "d_kv", "must be positive, got \(headSize)")
        try require(headCount > 0, file, "num_heads", "must be positive, got \(headCount)")
        try require(feedForwardSize > 0, file, "d_ff", "must be positive, got \(feedForwardSize)")
        try require(encoderLayerCount >= 0, file, "num_layers", "must not be negative")
        try require(decoderLayers >= 0, file, "num_decoder_layers", "must not be negative")
        try require(
            relativeAttentionBucketCount >= 2, file, "relative_attention_num_buckets",
            "must be at least 2")
        try require(
            relativeAttentionMaximumDistance > relativeAttentionBucketCount / 4, file,
            "relative_attention_max_distance", "must exceed a quarter of the bucket count")
        try require(
            feedForwardActivation != nil, file, "feed_forward_proj",
            "unsupported '\(feedForwardProjection)' (relu, gelu, gated-gelu, gated-silu)")
        try require(dropoutRate >= 0 && dropoutRate < 1, file, "dropout_rate", "must be in [0, 1)")
    }
}
