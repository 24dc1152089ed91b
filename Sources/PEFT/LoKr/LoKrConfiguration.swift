import Foundation

/// How LoKr's factors start (PEFT's `init_weights`).
public enum LoKrInitialization: Equatable, Sendable {
    /// `w1` (or `w1_a`) zero, the rest Kaiming-uniform: a fresh adapter changes nothing (`true`).
    case standard
    /// Every factor Kaiming-uniform (`false`).
    case random
    /// `w2` (or `w2_b`) zero, the rest Kaiming-uniform, as the LyCORIS repository does (`"lycoris"`).
    case lycoris
}

/// LoKr's settings (`LOKR`), with PEFT 0.21's keys and defaults, read from and written to
/// `adapter_config.json`.
///
/// The shared LyCORIS fields (`r`, `alpha`, the dropouts, the targeting keys and the patterns) are in
/// ``settings`` and read as this configuration's own (``LyCORISConfiguration``).
public struct LoKrConfiguration: LyCORISConfiguration, Equatable {
    /// The method: ``LoKr``.
    public typealias Method = LoKr
    /// `LOKR`.
    public static let peftType = "LOKR"
    /// The fields LoKr shares with LoHa.
    public var settings = LyCORISSettings()
    /// `decompose_both`: the left factor `w1` is also stored as a rank-r product when r is below
    /// half its larger side.
    public var decomposesBoth = false
    /// `decompose_factor`: the size the factorisation of each width aims at; −1 splits near the square
    /// root (``LoKrFactors/factorization(_:factor:)``).
    public var decompositionFactor = -1
    /// `rank_dropout_scale`: divide a rank-dropout mask by its mean.
    public var scalesRankDropout = false
    /// `init_weights`.
    public var initialization: LoKrInitialization = .standard

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout LoKrConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        try settings.validate()
    }

    enum CodingKeys: String, CodingKey {
        case decomposesBoth = "decompose_both"
        case decompositionFactor = "decompose_factor"
        case scalesRankDropout = "rank_dropout_scale"
        case initialization = "init_weights"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT 0.21's defaults and unknown keys are
    /// ignored.
    public init(from decoder: any Decoder) throws {
        settings = try LyCORISSettings(from: decoder)
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        decomposesBoth = try container.decodeIfPresent(Bool.self, forKey: .decomposesBoth) ?? false
        decompositionFactor =
            try container.decodeIfPresent(Int.self, forKey: .decompositionFactor) ?? -1
        scalesRankDropout =
            try container.decodeIfPresent(Bool.self, forKey: .scalesRankDropout) ?? false
        if let flag = try? container.decodeIfPresent(Bool.self, forKey: .initialization) {
            initialization = flag ? .standard : .random
        } else if let name = try container.decodeIfPresent(String.self, forKey: .initialization) {
            guard name == "lycoris" else {
                throw AdapterError.invalidConfiguration(
                    key: "init_weights",
                    reason: "'\(name)' is not supported (true, false or \"lycoris\")")
            }
            initialization = .lycoris
        }
        try validate()
    }

    /// Writes every key PEFT 0.21 writes for LoKr, so Python's `LoKrConfig` reads it unchanged.
    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(decomposesBoth, forKey: .decomposesBoth)
        try container.encode(decompositionFactor, forKey: .decompositionFactor)
        try container.encode(scalesRankDropout, forKey: .scalesRankDropout)
        switch initialization {
        case .standard: try container.encode(true, forKey: .initialization)
        case .random: try container.encode(false, forKey: .initialization)
        case .lycoris: try container.encode("lycoris", forKey: .initialization)
        }
    }
}
