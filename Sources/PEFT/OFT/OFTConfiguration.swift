import Foundation

/// Which biases train with OFT and are saved with it (PEFT's `bias`).
public enum OFTBiasMode: String, Codable, Sendable {
    /// No bias trains.
    case none
    /// Every bias of the model trains and is saved.
    case all
    /// The biases of the wrapped layers train and are saved (`base_layer.bias`).
    case oftOnly = "oft_only"
}

/// OFT's settings (`OFT`), with PEFT 0.21's keys and defaults, read from and written to
/// `adapter_config.json`.
///
/// Exactly one of ``blockCount`` (`r`) and ``blockSize`` (`oft_block_size`) is non-zero; the other
/// follows from each layer's input width, and a value that does not divide it moves to the nearest
/// divisor, as PEFT moves it.
public struct OFTConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``OFT``.
    public typealias Method = OFT
    /// `OFT`.
    public static let peftType = "OFT"
    /// The `peft_version` written to `adapter_config.json`: PEFT's loader parses it as a version number
    /// (to warn about Cayley–Neumann adapters from before 0.18), so it names the format's PEFT release.
    public static let writtenPEFTVersion = "0.21.2+swift-peft"
    /// `r`: the number of blocks per layer, or 0 to derive it from ``blockSize``.
    public var blockCount = 0
    /// `oft_block_size`: the size of each orthogonal block, or 0 to derive it from ``blockCount``.
    public var blockSize = 32
    /// `module_dropout`: recorded for PEFT, which builds its multiplicative dropout but never applies
    /// it in 0.21, so it has no effect here either.
    public var moduleDropout: Float = 0
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `exclude_modules`.
    public var excludedModules: TargetModules? = nil
    /// `fan_in_fan_out`: always `false` for the `nn.Linear` layers OFT wraps.
    public var fanInFanOut = false
    /// `bias`.
    public var bias: OFTBiasMode = .none
    /// `init_weights`: zero skew-symmetric parameters, so every rotation starts as the identity;
    /// `false` draws them from N(0, 0.1²).
    public var initializesWeights = true
    /// `layers_to_transform`: only these layer indices are wrapped.
    public var layersToTransform: [Int]? = nil
    /// `layers_pattern`: the name before the layer index (`h`, `layers`).
    public var layersPattern: [String]? = nil
    /// `modules_to_save`.
    public var modulesToSave: [String]? = nil
    /// `coft`: constrained OFT, which clamps each block's skew-symmetric matrix to Frobenius norm
    /// `eps / √(stored blocks)` before every use.
    public var constrained = false
    /// `eps`: COFT's bound.
    public var epsilon: Float = 6e-5
    /// `block_share`: one block for every position of the block diagonal.
    public var sharesBlocks = false
    /// `use_cayley_neumann`: approximate the Cayley transform by a truncated series instead of a solve.
    public var usesCayleyNeumann = true
    /// `num_cayley_neumann_terms`.
    public var cayleyNeumannTerms = 5
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout OFTConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        guard blockCount >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "r", reason: "must not be negative, got \(blockCount)")
        }
        guard blockSize >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "oft_block_size", reason: "must not be negative, got \(blockSize)")
        }
        guard (blockCount == 0) != (blockSize == 0) else {
            throw AdapterError.invalidConfiguration(
                key: blockCount == 0 ? "oft_block_size" : "r",
                reason:
                    "exactly one of r (\(blockCount)) and oft_block_size (\(blockSize)) must be non-zero"
            )
        }
        guard moduleDropout >= 0 && moduleDropout < 1 else {
            throw AdapterError.invalidConfiguration(
                key: "module_dropout", reason: "must be in [0, 1), got \(moduleDropout)")
        }
        guard cayleyNeumannTerms >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "num_cayley_neumann_terms",
                reason: "must not be negative, got \(cayleyNeumannTerms)")
        }
        guard epsilon.isFinite && epsilon >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "eps", reason: "must be a non-negative number, got \(epsilon)")
        }
        try targets.validateLayerSelection(
            layersToTransform: layersToTransform, layersPattern: layersPattern)
    }

    enum CodingKeys: String, CodingKey {
        case blockCount = "r"
        case blockSize = "oft_block_size"
        case moduleDropout = "module_dropout"
        case targets = "target_modules"
        case excludedModules = "exclude_modules"
        case fanInFanOut = "fan_in_fan_out"
        case bias
        case initializesWeights = "init_weights"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case modulesToSave = "modules_to_save"
        case constrained = "coft"
        case epsilon = "eps"
        case sharesBlocks = "block_share"
        case usesCayleyNeumann = "use_cayley_neumann"
        case cayleyNeumannTerms = "num_cayley_neumann_terms"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT 0.21's defaults and unknown keys are
    /// ignored. A file without `oft_block_size` comes from PEFT before 0.14, whose OFT stored other
    /// tensors, and is refused as PEFT refuses it.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.blockSize) else {
            throw AdapterError.invalidConfiguration(
                key: "oft_block_size",
                reason:
                    "is missing: the adapter was written by PEFT before 0.14, whose OFT weights this "
                    + "library (like PEFT 0.21) cannot load")
        }
        blockCount = try container.decodeIfPresent(Int.self, forKey: .blockCount) ?? 0
        blockSize = try container.decodeIfPresent(Int.self, forKey: .blockSize) ?? 32
        moduleDropout = try container.decodeIfPresent(Float.self, forKey: .moduleDropout) ?? 0
        targets = try container.decodeTargetModules(forKey: .targets) ?? .automatic
        excludedModules = try container.decodeTargetModules(
            forKey: .excludedModules, allowsAllLinear: false)
        fanInFanOut = try container.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        bias = try container.decodeIfPresent(OFTBiasMode.self, forKey: .bias) ?? .none
        initializesWeights =
            try container.decodeIfPresent(Bool.self, forKey: .initializesWeights) ?? true
        layersToTransform = try container.decodeIntOrList(forKey: .layersToTransform)
        layersPattern = try container.decodeNames(forKey: .layersPattern)
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
        constrained = try container.decodeIfPresent(Bool.self, forKey: .constrained) ?? false
        epsilon = try container.decodeIfPresent(Float.self, forKey: .epsilon) ?? 6e-5
        sharesBlocks = try container.decodeIfPresent(Bool.self, forKey: .sharesBlocks) ?? false
        usesCayleyNeumann =
            try container.decodeIfPresent(Bool.self, forKey: .usesCayleyNeumann) ?? true
        cayleyNeumannTerms =
            try container.decodeIfPresent(Int.self, forKey: .cayleyNeumannTerms) ?? 5
        try validate()
    }

    /// Writes every key PEFT 0.21 writes for OFT, so Python's `OFTConfig` reads it unchanged.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder, peftVersion: Self.writtenPEFTVersion)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(blockCount, forKey: .blockCount)
        try container.encode(blockSize, forKey: .blockSize)
        try container.encode(moduleDropout, forKey: .moduleDropout)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encodeTargetModules(excludedModules, forKey: .excludedModules)
        try container.encode(fanInFanOut, forKey: .fanInFanOut)
        try container.encode(bias, forKey: .bias)
        try container.encode(initializesWeights, forKey: .initializesWeights)
        try container.encode(layersToTransform, forKey: .layersToTransform)
        try container.encode(layersPattern, forKey: .layersPattern)
        try container.encode(modulesToSave, forKey: .modulesToSave)
        try container.encode(constrained, forKey: .constrained)
        try container.encode(epsilon, forKey: .epsilon)
        try container.encode(sharesBlocks, forKey: .sharesBlocks)
        try container.encode(usesCayleyNeumann, forKey: .usesCayleyNeumann)
        try container.encode(cayleyNeumannTerms, forKey: .cayleyNeumannTerms)
    }
}
