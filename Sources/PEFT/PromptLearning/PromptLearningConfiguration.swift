import Foundation

/// A JSON key given by its name, for configurations with many optional keys.
struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The settings every prompt-learning method shares, as PEFT's `PromptLearningConfig` names them.
///
/// The model-shaped values (`token_dim`, `num_layers`, `num_attention_heads`,
/// `num_transformer_submodules`) are filled in from the model when the adapter is applied.
public struct PromptLearningSettings: Equatable, Sendable {
    /// `num_virtual_tokens`, P.
    public var virtualTokenCount = 20
    /// `token_dim`: the model width.
    public var tokenDimension: Int? = nil
    /// `num_layers`: the decoder's layers.
    public var layerCount: Int? = nil
    /// `num_attention_heads`.
    public var attentionHeadCount: Int? = nil
    /// `num_transformer_submodules`: 1 for a decoder, 2 for an encoder-decoder.
    public var transformerSubmoduleCount: Int? = nil
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil
    /// `modules_to_save`: for `SEQ_CLS`, the classification head, which trains in full.
    public var modulesToSave: [String]? = nil

    /// Default settings with `P` virtual tokens.
    public init(virtualTokenCount: Int = 20) {
        self.virtualTokenCount = virtualTokenCount
    }

    init(from container: KeyedDecodingContainer<JSONKey>) throws {
        virtualTokenCount =
            try container.decodeIfPresent(Int.self, forKey: JSONKey("num_virtual_tokens")) ?? 20
        tokenDimension = try container.decodeIfPresent(Int.self, forKey: JSONKey("token_dim"))
        layerCount = try container.decodeIfPresent(Int.self, forKey: JSONKey("num_layers"))
        attentionHeadCount = try container.decodeIfPresent(
            Int.self, forKey: JSONKey("num_attention_heads"))
        transformerSubmoduleCount = try container.decodeIfPresent(
            Int.self, forKey: JSONKey("num_transformer_submodules"))
        modulesToSave = try container.decodeIfPresent(
            [String].self, forKey: JSONKey("modules_to_save"))
        guard virtualTokenCount > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "num_virtual_tokens", reason: "must be positive")
        }
    }

    func encode(to container: inout KeyedEncodingContainer<JSONKey>) throws {
        try container.encode(virtualTokenCount, forKey: JSONKey("num_virtual_tokens"))
        try container.encode(tokenDimension, forKey: JSONKey("token_dim"))
        try container.encode(layerCount, forKey: JSONKey("num_layers"))
        try container.encode(attentionHeadCount, forKey: JSONKey("num_attention_heads"))
        try container.encode(
            transformerSubmoduleCount, forKey: JSONKey("num_transformer_submodules"))
        try container.encode(modulesToSave, forKey: JSONKey("modules_to_save"))
    }

    /// Fills the model-shaped values from the model, checking any already set.
    mutating func fill(from shape: PromptModelShape) throws {
        for (key, current, actual) in [
            ("token_dim", tokenDimension, shape.width), ("num_layers", layerCount, shape.layers),
            ("num_attention_heads", attentionHeadCount, shape.heads),
            ("num_transformer_submodules", transformerSubmoduleCount, shape.submodules),
        ] where current != nil && current != actual {
            throw AdapterError.invalidConfiguration(
                key: key, reason: "is \(current!) but the model has \(actual)")
        }
        tokenDimension = shape.width
        layerCount = shape.layers
        attentionHeadCount = shape.heads
        transformerSubmoduleCount = shape.submodules
        if taskType == nil { taskType = shape.submodules == 2 ? "SEQ_2_SEQ_LM" : "CAUSAL_LM" }
    }
}

/// A prompt-learning method's configuration: its own keys around the shared ``PromptLearningSettings``.
public protocol PromptLearningConfiguration: PEFTConfiguration {
    /// The settings every prompt-learning method shares.
    var settings: PromptLearningSettings { get set }
}

extension PromptLearningConfiguration {
    /// `task_type`.
    public var taskType: String? {
        get { settings.taskType }
        set { settings.taskType = newValue }
    }

    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? {
        get { settings.baseModelNameOrPath }
        set { settings.baseModelNameOrPath = newValue }
    }

    /// `modules_to_save`.
    public var modulesToSave: [String]? {
        get { settings.modulesToSave }
        set { settings.modulesToSave = newValue }
    }
}

/// How `prompt_tuning_init` starts the virtual tokens.
public enum PromptTuningInitialization: Equatable, Sendable {
    /// Standard normal values (`RANDOM`).
    case random
    /// The embeddings of these token ids, repeated or cut to length (`TEXT`); the text is recorded.
    case text(String, tokenIDs: [Int])
    /// The embeddings of tokens drawn at random from the vocabulary (`SAMPLE_VOCAB`).
    case sampleVocabulary
}

/// Prompt tuning's settings (`PROMPT_TUNING`): learned virtual-token embeddings.
public struct PromptTuningConfiguration: PromptLearningConfiguration, Equatable {
    /// The method: ``PromptTuning``.
    public typealias Method = PromptTuning
    /// `PROMPT_TUNING`.
    public static let peftType = "PROMPT_TUNING"
    /// The shared prompt-learning settings.
    public var settings: PromptLearningSettings
    /// `prompt_tuning_init`.
    public var initialization: PromptTuningInitialization = .random
    /// `tokenizer_name_or_path`, recorded for `TEXT` initialisation.
    public var tokenizerNameOrPath: String? = nil

    /// A configuration with `P` virtual tokens.
    public init(virtualTokens: Int = 20, initialization: PromptTuningInitialization = .random) {
        settings = PromptLearningSettings(virtualTokenCount: virtualTokens)
        self.initialization = initialization
    }

    /// Reads PEFT's JSON; `TEXT` initialisation is recorded but not replayed (loading restores values).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        settings = try PromptLearningSettings(from: container)
        try decodeSharedFields(from: decoder)
        tokenizerNameOrPath = try container.decodeIfPresent(
            String.self, forKey: JSONKey("tokenizer_name_or_path"))
        switch try container.decodeIfPresent(String.self, forKey: JSONKey("prompt_tuning_init"))
            ?? "RANDOM"
        {
        case "RANDOM": initialization = .random
        case "SAMPLE_VOCAB": initialization = .sampleVocabulary
        case "TEXT":
            let text =
                try container.decodeIfPresent(
                    String.self, forKey: JSONKey("prompt_tuning_init_text")) ?? ""
            initialization = .text(text, tokenIDs: [])
        case let other:
            throw AdapterError.invalidConfiguration(
                key: "prompt_tuning_init", reason: "unknown value '\(other)'")
        }
    }

    /// Writes PEFT's keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try settings.encode(to: &container)
        try encodeSharedFields(to: encoder)
        switch initialization {
        case .random:
            try container.encode("RANDOM", forKey: JSONKey("prompt_tuning_init"))
            try container.encodeNil(forKey: JSONKey("prompt_tuning_init_text"))
        case .sampleVocabulary:
            try container.encode("SAMPLE_VOCAB", forKey: JSONKey("prompt_tuning_init"))
            try container.encodeNil(forKey: JSONKey("prompt_tuning_init_text"))
        case .text(let text, _):
            try container.encode("TEXT", forKey: JSONKey("prompt_tuning_init"))
            try container.encode(text, forKey: JSONKey("prompt_tuning_init_text"))
        }
        try container.encode(tokenizerNameOrPath, forKey: JSONKey("tokenizer_name_or_path"))
        try container.encodeNil(forKey: JSONKey("tokenizer_kwargs"))
    }
}

/// P-tuning's prompt encoder (`encoder_reparameterization_type`).
public enum PTuningEncoderType: String, Codable, Sendable {
    /// Two hidden layers with ReLU.
    case mlp = "MLP"
    /// A bidirectional LSTM, then a two-layer MLP.
    case lstm = "LSTM"
}

/// P-tuning's settings (`P_TUNING`): virtual tokens produced by a trainable prompt encoder.
public struct PTuningConfiguration: PromptLearningConfiguration, Equatable {
    /// The method: ``PTuning``.
    public typealias Method = PTuning
    /// `P_TUNING`.
    public static let peftType = "P_TUNING"
    /// The shared prompt-learning settings.
    public var settings: PromptLearningSettings
    /// `encoder_reparameterization_type`.
    public var encoderType: PTuningEncoderType = .mlp
    /// `encoder_hidden_size`; `nil` means the model width.
    public var encoderHiddenSize: Int? = nil
    /// `encoder_num_layers`: the LSTM's layers (PEFT ignores it for the MLP).
    public var encoderLayerCount = 2
    /// `encoder_dropout`: between LSTM layers.
    public var encoderDropout: Float = 0

    /// A configuration with `P` virtual tokens and the given encoder.
    public init(
        virtualTokens: Int = 20, encoderType: PTuningEncoderType = .mlp,
        encoderHiddenSize: Int? = nil
    ) {
        settings = PromptLearningSettings(virtualTokenCount: virtualTokens)
        self.encoderType = encoderType
        self.encoderHiddenSize = encoderHiddenSize
    }

    /// Reads PEFT's JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        settings = try PromptLearningSettings(from: container)
        try decodeSharedFields(from: decoder)
        encoderType =
            try container.decodeIfPresent(
                PTuningEncoderType.self, forKey: JSONKey("encoder_reparameterization_type"))
            ?? .mlp
        encoderHiddenSize = try container.decodeIfPresent(
            Int.self, forKey: JSONKey("encoder_hidden_size"))
        encoderLayerCount =
            try container.decodeIfPresent(Int.self, forKey: JSONKey("encoder_num_layers")) ?? 2
        encoderDropout =
            try container.decodeIfPresent(Float.self, forKey: JSONKey("encoder_dropout")) ?? 0
    }

    /// Writes PEFT's keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try settings.encode(to: &container)
        try encodeSharedFields(to: encoder)
        try container.encode(encoderType, forKey: JSONKey("encoder_reparameterization_type"))
        try container.encode(
            encoderHiddenSize ?? settings.tokenDimension, forKey: JSONKey("encoder_hidden_size"))
        try container.encode(encoderLayerCount, forKey: JSONKey("encoder_num_layers"))
        try container.encode(encoderDropout, forKey: JSONKey("encoder_dropout"))
    }
}

/// Prefix tuning's settings (`PREFIX_TUNING`): learned keys and values for every attention layer.
public struct PrefixTuningConfiguration: PromptLearningConfiguration, Equatable {
    /// The method: ``PrefixTuning``.
    public typealias Method = PrefixTuning
    /// `PREFIX_TUNING`.
    public static let peftType = "PREFIX_TUNING"
    /// The shared prompt-learning settings.
    public var settings: PromptLearningSettings
    /// `prefix_projection`: produce the prefixes through a two-layer MLP while training.
    public var usesProjection = false
    /// `encoder_hidden_size`: the projection's hidden width; `nil` means the model width.
    public var encoderHiddenSize: Int? = nil

    /// A configuration with `P` prefix positions.
    public init(
        virtualTokens: Int = 20, usesProjection: Bool = false, encoderHiddenSize: Int? = nil
    ) {
        settings = PromptLearningSettings(virtualTokenCount: virtualTokens)
        self.usesProjection = usesProjection
        self.encoderHiddenSize = encoderHiddenSize
    }

    /// Reads PEFT's JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        settings = try PromptLearningSettings(from: container)
        try decodeSharedFields(from: decoder)
        usesProjection =
            try container.decodeIfPresent(Bool.self, forKey: JSONKey("prefix_projection")) ?? false
        encoderHiddenSize = try container.decodeIfPresent(
            Int.self, forKey: JSONKey("encoder_hidden_size"))
    }

    /// Writes PEFT's keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try settings.encode(to: &container)
        try encodeSharedFields(to: encoder)
        try container.encode(usesProjection, forKey: JSONKey("prefix_projection"))
        try container.encode(
            encoderHiddenSize ?? settings.tokenDimension, forKey: JSONKey("encoder_hidden_size"))
    }
}
