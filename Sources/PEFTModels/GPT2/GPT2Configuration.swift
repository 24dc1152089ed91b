import PEFTNN

/// The hyperparameters of a GPT-2-family model, read from Hugging Face's `config.json`.
public struct GPT2Configuration: Codable, Equatable, Sendable {
    /// The number of token ids, V.
    public var vocabularySize: Int = 50257
    /// The longest sequence the position table covers.
    public var maximumPositions: Int = 1024
    /// The model width, C.
    public var embeddingSize: Int = 768
    /// The number of blocks.
    public var layerCount: Int = 12
    /// The number of attention heads, H.
    public var headCount: Int = 12
    /// The feed-forward width; `nil` means 4·C.
    public var innerSize: Int? = nil
    /// The feed-forward non-linearity's Hugging Face name (`gelu_new`).
    public var activationFunction: String = "gelu_new"
    /// Epsilon of every layer norm.
    public var layerNormEpsilon: Float = 1e-5
    /// Dropout on the residual branches.
    public var residualDropout: Float = 0.1
    /// Dropout on the embeddings.
    public var embeddingDropout: Float = 0.1
    /// Dropout on the attention probabilities.
    public var attentionDropout: Float = 0.1
    /// The standard deviation of the initial weights.
    public var initializerRange: Float = 0.02
    /// Whether the output head shares the token embedding matrix.
    public var tieWordEmbeddings: Bool = true
    /// The beginning-of-sequence token id.
    public var bosTokenID: Int? = 50256
    /// The end-of-sequence token id.
    public var eosTokenID: Int? = 50256
    /// Whether attention scores are divided by √D.
    public var scaleAttentionWeights: Bool = true
    /// Always `gpt2` for this family.
    public var modelType: String = "gpt2"

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case maximumPositions = "n_positions"
        case embeddingSize = "n_embd"
        case layerCount = "n_layer"
        case headCount = "n_head"
        case innerSize = "n_inner"
        case activationFunction = "activation_function"
        case layerNormEpsilon = "layer_norm_epsilon"
        case residualDropout = "resid_pdrop"
        case embeddingDropout = "embd_pdrop"
        case attentionDropout = "attn_pdrop"
        case initializerRange = "initializer_range"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case scaleAttentionWeights = "scale_attn_weights"
        case modelType = "model_type"
    }

    /// A configuration with Hugging Face's GPT-2 defaults, changed by `configure`.
    public init(_ configure: (inout GPT2Configuration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Reads a configuration, taking Hugging Face's default for every key that is absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        vocabularySize = try value(.vocabularySize, vocabularySize)
        maximumPositions = try value(.maximumPositions, maximumPositions)
        embeddingSize = try value(.embeddingSize, embeddingSize)
        layerCount = try value(.layerCount, layerCount)
        headCount = try value(.headCount, headCount)
        innerSize = try container.decodeIfPresent(Int.self, forKey: .innerSize)
        activationFunction = try value(.activationFunction, activationFunction)
        layerNormEpsilon = try value(.layerNormEpsilon, layerNormEpsilon)
        residualDropout = try value(.residualDropout, residualDropout)
        embeddingDropout = try value(.embeddingDropout, embeddingDropout)
        attentionDropout = try value(.attentionDropout, attentionDropout)
        initializerRange = try value(.initializerRange, initializerRange)
        tieWordEmbeddings = try value(.tieWordEmbeddings, tieWordEmbeddings)
        bosTokenID = try container.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? bosTokenID
        eosTokenID = try container.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? eosTokenID
        scaleAttentionWeights = try value(.scaleAttentionWeights, scaleAttentionWeights)
        modelType = try value(.modelType, modelType)
    }

    /// The feed-forward width.
    public var feedForwardSize: Int { innerSize ?? 4 * embeddingSize }

    /// Checks the values a model cannot be built from, naming the key at fault.
    public func validate(file: String = "config.json") throws {
        try require(
            vocabularySize > 0, file, "vocab_size", "must be positive, got \(vocabularySize)")
        try require(
            maximumPositions > 0, file, "n_positions", "must be positive, got \(maximumPositions)")
        try require(layerCount >= 0, file, "n_layer", "must not be negative, got \(layerCount)")
        try require(headCount > 0, file, "n_head", "must be positive, got \(headCount)")
        try require(
            embeddingSize > 0 && embeddingSize % headCount == 0, file, "n_embd",
            "\(embeddingSize) must be a positive multiple of n_head (\(headCount))")
        try require(
            feedForwardSize > 0, file, "n_inner", "must be positive, got \(feedForwardSize)")
        try require(
            Activation(huggingFaceName: activationFunction) != nil, file, "activation_function",
            "unsupported activation '\(activationFunction)'")
        for (key, value) in [
            ("resid_pdrop", residualDropout), ("embd_pdrop", embeddingDropout),
            ("attn_pdrop", attentionDropout),
        ] {
            try require(value >= 0 && value < 1, file, key, "must be in [0, 1), got \(value)")
        }
    }
}
