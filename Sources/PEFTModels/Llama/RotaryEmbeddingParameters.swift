/// How a Llama-family model turns positions into rotation angles: `rope_type` and what it reads.
///
/// `transformers` 5 writes one `rope_parameters` object; checkpoints from before it write `rope_scaling`
/// (or nothing) plus a top-level `rope_theta`. Both decode to this value, as `transformers`
/// standardises them: the object's own keys first, then the top-level `rope_theta`, then 10000.
public struct RotaryEmbeddingParameters: Equatable, Sendable {
    /// `rope_type` (or the legacy `type`): `default`, `linear` or `llama3` here.
    public var type: String = "default"
    /// `rope_theta`, the base of the inverse frequencies.
    public var theta: Double = 10000
    /// `factor`: linear divides every frequency by it; llama3 the low ones.
    public var factor: Double?
    /// `low_freq_factor` (llama3).
    public var lowFrequencyFactor: Double?
    /// `high_freq_factor` (llama3).
    public var highFrequencyFactor: Double?
    /// `original_max_position_embeddings` (llama3); `nil` falls back to `max_position_embeddings`.
    public var originalMaximumPositions: Int?
    /// `partial_rotary_factor`, which no family here sets below 1.
    public var partialRotaryFactor: Double?
    /// The `config.json` key the values came from (`rope_parameters` or `rope_scaling`), for messages.
    public var sourceKey: String = "rope_parameters"

    /// The `rope_type`s this library computes.
    public static let supportedTypes: Set<String> = ["default", "linear", "llama3"]

    /// Default rotary embeddings with base `theta`.
    public init(theta: Double = 10000) {
        self.theta = theta
    }

    /// Checks that the type is supported and has the keys it needs, naming the key at fault.
    public func validate(file: String) throws {
        try require(
            Self.supportedTypes.contains(type), file, "\(sourceKey).rope_type",
            "unsupported rope type '\(type)' (supported: default, linear, llama3)")
        try require(
            theta > 0, file, "\(sourceKey).rope_theta", "must be positive, got \(theta)")
        try require(
            (partialRotaryFactor ?? 1) == 1, file, "\(sourceKey).partial_rotary_factor",
            "only 1.0 is supported, got \(partialRotaryFactor ?? 1)")
        if type == "linear" || type == "llama3" {
            try require(
                (factor ?? 0) > 0, file, "\(sourceKey).factor",
                "rope type '\(type)' needs a positive factor")
        }
        if type == "llama3" {
            try require(
                lowFrequencyFactor != nil && highFrequencyFactor != nil
                    && lowFrequencyFactor! < highFrequencyFactor!, file,
                "\(sourceKey).low_freq_factor",
                "llama3 needs low_freq_factor < high_freq_factor")
        }
    }
}

extension RotaryEmbeddingParameters {
    /// The keys of a `rope_parameters` or `rope_scaling` object; absent values are not written.
    struct Object: Codable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        var factor: Double?
        var lowFreqFactor: Double?
        var highFreqFactor: Double?
        var originalMaxPositionEmbeddings: Int?
        var partialRotaryFactor: Double?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type"
            case type
            case ropeTheta = "rope_theta"
            case factor
            case lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
            case partialRotaryFactor = "partial_rotary_factor"
        }

        /// The object `transformers` 5 writes as `rope_parameters`.
        init(_ parameters: RotaryEmbeddingParameters) {
            ropeType = parameters.type
            ropeTheta = parameters.theta
            factor = parameters.factor
            lowFreqFactor = parameters.lowFrequencyFactor
            highFreqFactor = parameters.highFrequencyFactor
            originalMaxPositionEmbeddings = parameters.originalMaximumPositions
            partialRotaryFactor = parameters.partialRotaryFactor
        }
    }

    /// Standardises an object and the top-level keys as `transformers`' `convert_rope_params_to_dict`.
    init(
        object: Object?, sourceKey: String, topLevelTheta: Double?,
        topLevelPartialRotaryFactor: Double?, topLevelOriginalMaximumPositions: Int?
    ) {
        self.sourceKey = sourceKey
        type = object?.ropeType ?? object?.type ?? "default"
        theta = object?.ropeTheta ?? topLevelTheta ?? 10000
        factor = object?.factor
        lowFrequencyFactor = object?.lowFreqFactor
        highFrequencyFactor = object?.highFreqFactor
        // A top-level `original_max_position_embeddings` wins over the object's (Phi-3's layout).
        originalMaximumPositions =
            topLevelOriginalMaximumPositions ?? object?.originalMaxPositionEmbeddings
        partialRotaryFactor = object?.partialRotaryFactor ?? topLevelPartialRotaryFactor
    }
}
