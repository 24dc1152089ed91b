import Foundation

/// LoHa's settings (`LOHA`), with PEFT 0.21's keys and defaults, read from and written to
/// `adapter_config.json`.
///
/// The shared LyCORIS fields (`r`, `alpha`, the dropouts, the targeting keys and the patterns) are in
/// ``settings`` and read as this configuration's own (``LyCORISConfiguration``).
public struct LoHaConfiguration: LyCORISConfiguration, Equatable {
    /// The method: ``LoHa``.
    public typealias Method = LoHa
    /// `LOHA`.
    public static let peftType = "LOHA"
    /// The fields LoHa shares with LoKr.
    public var settings = LyCORISSettings()
    /// `init_weights`: `hada_w2_b` starts at zero, so a fresh adapter changes nothing; `false` draws
    /// every factor Kaiming-uniform.
    public var initializesWeights = true

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout LoHaConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        try settings.validate()
    }

    enum CodingKeys: String, CodingKey {
        case initializesWeights = "init_weights"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT 0.21's defaults and unknown keys are
    /// ignored.
    public init(from decoder: any Decoder) throws {
        settings = try LyCORISSettings(from: decoder)
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        initializesWeights =
            try container.decodeIfPresent(Bool.self, forKey: .initializesWeights) ?? true
        try validate()
    }

    /// Writes every key PEFT 0.21 writes for LoHa, so Python's `LoHaConfig` reads it unchanged.
    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(initializesWeights, forKey: .initializesWeights)
    }
}
