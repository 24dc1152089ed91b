import Foundation

extension LlamaConfiguration: Encodable {
    /// The `architectures` entry `transformers` writes for each `model_type`.
    static let architectures = [
        "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "qwen3": "Qwen3ForCausalLM",
    ]

    /// Writes `config.json` as `transformers` 5 does: resolved head counts and sizes, and the rotary
    /// settings as one `rope_parameters` object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(modelType, forKey: .modelType)
        try container.encode(vocabularySize, forKey: .vocabularySize)
        try container.encode(hiddenSize, forKey: .hiddenSize)
        try container.encode(intermediateSize, forKey: .intermediateSize)
        try container.encode(layerCount, forKey: .layerCount)
        try container.encode(headCount, forKey: .headCount)
        try container.encode(keyValueHeadCount, forKey: .keyValueHeadCount)
        try container.encode(headDimension, forKey: .headDimension)
        try container.encode(hiddenActivation, forKey: .hiddenActivation)
        try container.encode(maximumPositions, forKey: .maximumPositions)
        try container.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try container.encode(attentionBias, forKey: .attentionBias)
        try container.encode(mlpBias, forKey: .mlpBias)
        try container.encode(attentionDropout, forKey: .attentionDropout)
        try container.encode(initializerRange, forKey: .initializerRange)
        try container.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try container.encode(bosTokenID, forKey: .bosTokenID)
        switch eosTokenIDs.count {
        case 0: try container.encodeNil(forKey: .eosTokenID)
        case 1: try container.encode(eosTokenIDs[0], forKey: .eosTokenID)
        default: try container.encode(eosTokenIDs, forKey: .eosTokenID)
        }
        try container.encode(padTokenID, forKey: .padTokenID)
        try container.encode(RotaryEmbeddingParameters.Object(rope), forKey: .ropeParameters)
        switch modelType {
        case "mistral":
            try container.encode(slidingWindow, forKey: .slidingWindow)
        case "qwen2", "qwen3":
            try container.encode(slidingWindow != nil, forKey: .useSlidingWindow)
            try container.encode(slidingWindow, forKey: .slidingWindow)
            try container.encode(layerTypes, forKey: .layerTypes)
        default:
            break
        }
        var extra = encoder.container(keyedBy: ExtraKeys.self)
        try extra.encode(
            [Self.architectures[modelType] ?? "LlamaForCausalLM"], forKey: .architectures)
    }

    /// Keys written but not read back.
    enum ExtraKeys: String, CodingKey { case architectures }
}

extension LlamaConfiguration: HuggingFaceConfiguration {
    /// Keys `transformers` reads as floats.
    public static let floatingPointKeys = [
        "rms_norm_eps", "attention_dropout", "initializer_range", "rope_theta", "factor",
        "low_freq_factor", "high_freq_factor",
    ]
}

extension LlamaForCausalLM {
    /// Saves this model as a Hugging Face folder that `transformers` and this library load; a tied head
    /// is saved once, as `model.embed_tokens.weight`. Weights in F32, or BF16 when `bfloat16` is set.
    public func save(to folder: URL, bfloat16: Bool) throws {
        try CheckpointFolder.write(
            model: self, configuration: configuration, to: folder, bfloat16: bfloat16)
    }

    /// Saves this model in F32 as a Hugging Face folder; see ``save(to:bfloat16:)``.
    public func save(to folder: URL) throws { try save(to: folder, bfloat16: false) }
}
