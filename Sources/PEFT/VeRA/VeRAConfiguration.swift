import Foundation

/// Which biases train with VeRA and are saved with it (PEFT's `bias`).
public enum VeRABiasMode: String, Codable, Sendable {
    /// No bias trains.
    case none
    /// Every bias of the model trains and is saved.
    case all
    /// The biases of the wrapped layers train and are saved (`base_layer.bias`).
    case veraOnly = "vera_only"
}

/// VeRA's settings (`VERA`), with PEFT 0.21's keys and defaults, read from and written to
/// `adapter_config.json`.
public struct VeRAConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``VeRA``.
    public typealias Method = VeRA
    /// `VERA`.
    public static let peftType = "VERA"
    /// `r`: the rank of the shared projections, and the length of every `vera_lambda_d`.
    public var rank = 256
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `projection_prng_key`: the seed of the shared projections.
    ///
    /// PEFT seeds PyTorch's generator with it; this library seeds its own, so the projections of an
    /// adapter made here differ from PEFT's for the same key and are always saved
    /// (``saveProjection``).
    public var projectionPRNGKey = 0
    /// `save_projection`: the shared `vera_A` and `vera_B` are saved as `base_model.vera_A` and
    /// `base_model.vera_B`. Only `true` is supported: without the saved projections they would have to
    /// be drawn again from PyTorch's generator.
    public var saveProjection = true
    /// `vera_dropout`: dropout on the adapter's input while training.
    public var dropout: Float = 0
    /// `d_initial`: the starting value of every `vera_lambda_d` entry.
    public var initialD: Float = 0.1
    /// `fan_in_fan_out`: set for GPT-2's Conv1D, as PEFT does when it applies VeRA.
    public var fanInFanOut = false
    /// `bias`.
    public var bias: VeRABiasMode = .none
    /// `init_weights`: `vera_lambda_b` zero and `vera_lambda_d` at ``initialD``, so a fresh adapter
    /// changes nothing; `false` starts `vera_lambda_b` at one and `vera_lambda_d` normal.
    public var initializesWeights = true
    /// `layers_to_transform`: only these layer indices are wrapped.
    public var layersToTransform: [Int]? = nil
    /// `layers_pattern`: the name before the layer index (`h`, `layers`).
    public var layersPattern: [String]? = nil
    /// `modules_to_save`.
    public var modulesToSave: [String]? = nil
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout VeRAConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        guard rank > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "r", reason: "must be positive, got \(rank)")
        }
        guard saveProjection else {
            throw AdapterError.invalidConfiguration(
                key: "save_projection",
                reason:
                    "false is not supported: PEFT then rebuilds vera_A and vera_B from PyTorch's "
                    + "torch.Generator seeded with projection_prng_key, which this library does not "
                    + "reproduce; save the adapter with save_projection=True")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw AdapterError.invalidConfiguration(
                key: "vera_dropout", reason: "must be in [0, 1), got \(dropout)")
        }
        try targets.validateLayerSelection(
            layersToTransform: layersToTransform, layersPattern: layersPattern)
    }

    enum CodingKeys: String, CodingKey {
        case rank = "r"
        case targets = "target_modules"
        case projectionPRNGKey = "projection_prng_key"
        case saveProjection = "save_projection"
        case dropout = "vera_dropout"
        case initialD = "d_initial"
        case fanInFanOut = "fan_in_fan_out"
        case bias
        case initializesWeights = "init_weights"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case modulesToSave = "modules_to_save"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT's defaults and unknown keys are
    /// ignored.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? rank
        targets = try container.decodeTargetModules(forKey: .targets) ?? .automatic
        projectionPRNGKey =
            try container.decodeIfPresent(Int.self, forKey: .projectionPRNGKey) ?? 0
        saveProjection =
            try container.decodeIfPresent(Bool.self, forKey: .saveProjection) ?? true
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        initialD = try container.decodeIfPresent(Float.self, forKey: .initialD) ?? 0.1
        fanInFanOut = try container.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        bias = try container.decodeIfPresent(VeRABiasMode.self, forKey: .bias) ?? .none
        initializesWeights =
            try container.decodeIfPresent(Bool.self, forKey: .initializesWeights) ?? true
        layersToTransform = try container.decodeIntOrList(forKey: .layersToTransform)
        layersPattern = try container.decodeNames(forKey: .layersPattern)
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
        try validate()
    }

    /// Writes every key PEFT 0.21 writes for VeRA, so Python's `VeraConfig` reads it unchanged.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encode(projectionPRNGKey, forKey: .projectionPRNGKey)
        try container.encode(saveProjection, forKey: .saveProjection)
        try container.encode(dropout, forKey: .dropout)
        try container.encode(initialD, forKey: .initialD)
        try container.encode(fanInFanOut, forKey: .fanInFanOut)
        try container.encode(bias, forKey: .bias)
        try container.encode(initializesWeights, forKey: .initializesWeights)
        try container.encode(layersToTransform, forKey: .layersToTransform)
        try container.encode(layersPattern, forKey: .layersPattern)
        try container.encode(modulesToSave, forKey: .modulesToSave)
    }
}
