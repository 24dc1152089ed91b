import Foundation

/// The settings of trainable tokens (`TRAINABLE_TOKENS`), with PEFT's keys and defaults: train only
/// the rows `token_indices` of an embedding table.
public struct TrainableTokensConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``TrainableTokens``.
    public typealias Method = TrainableTokens
    /// `TRAINABLE_TOKENS`.
    public static let peftType = "TRAINABLE_TOKENS"
    /// `token_indices`: the rows that train.
    public var tokenIndices: [Int] = []
    /// `target_modules`: the embedding tables; ``TargetModules/automatic`` is the model's input
    /// embedding (saved as its path, `transformer.wte`, as PEFT saves it).
    public var targets: TargetModules = .automatic
    /// `init_weights`: start the rows at their base values, so a fresh adapter changes nothing;
    /// `false` draws them from a standard normal.
    public var initializesFromBase = true
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout TrainableTokensConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    enum CodingKeys: String, CodingKey {
        case tokenIndices = "token_indices"
        case targets = "target_modules"
        case initializesFromBase = "init_weights"
    }

    /// Reads PEFT's JSON; absent keys take PEFT's defaults.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tokenIndices = try container.decodeIfPresent([Int].self, forKey: .tokenIndices) ?? []
        targets =
            try container.decodeTargetModules(forKey: .targets, allowsAllLinear: false)
            ?? .automatic
        initializesFromBase =
            try container.decodeIfPresent(Bool.self, forKey: .initializesFromBase) ?? true
        try validateTokenIndices(tokenIndices, key: CodingKeys.tokenIndices.rawValue)
    }

    /// Writes PEFT's keys.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokenIndices, forKey: .tokenIndices)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encode(initializesFromBase, forKey: .initializesFromBase)
    }
}

/// Refuses an empty list, a negative index or a repeated one (PEFT's `index_copy` would pick one of
/// the repeats arbitrarily), naming `key`.
func validateTokenIndices(_ indices: [Int], key: String) throws {
    guard !indices.isEmpty else {
        throw AdapterError.invalidConfiguration(key: key, reason: "names no token")
    }
    if let negative = indices.first(where: { $0 < 0 }) {
        throw AdapterError.invalidConfiguration(key: key, reason: "index \(negative) is negative")
    }
    guard Set(indices).count == indices.count else {
        throw AdapterError.invalidConfiguration(key: key, reason: "repeats an index")
    }
}
