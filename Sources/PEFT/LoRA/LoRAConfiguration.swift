import Foundation

/// Which parameters besides the adapters train with LoRA (PEFT's `bias`).
public enum LoRABiasMode: String, Codable, Sendable {
    /// No bias trains.
    case none
    /// Every bias of the model trains and is saved with the adapter.
    case all
    /// The biases of the wrapped layers train and are saved.
    case loraOnly = "lora_only"
}

/// How LoRA's factors start (PEFT's `init_lora_weights`).
public enum LoRAInitialization: Equatable, Sendable {
    /// A Kaiming-uniform, B zero: a fresh adapter changes nothing (`true`).
    case standard
    /// A and B both random (`false`); for tests, since the adapter then changes the model at once.
    case random
    /// A normal with standard deviation `1/r`, B zero (`"gaussian"`).
    case gaussian
    /// The top-r singular triplets of W go into A and B, and W keeps the residual (`"pissa"`).
    case pissa
    /// A and B from the QR decomposition of W, which keeps the residual (`"olora"`).
    case olora
}

/// LoRA's settings, with PEFT's keys and defaults, read from and written to `adapter_config.json`.
public struct LoRAConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``LoRA``.
    public typealias Method = LoRA
    /// `LORA`.
    public static let peftType = "LORA"
    /// `r`: the rank of the update.
    public var rank = 8
    /// `lora_alpha`: the update is scaled by `alpha / r` (or `alpha / √r` with rsLoRA).
    public var alpha: Float = 8
    /// `lora_dropout`: dropout on the adapter's input while training.
    public var dropout: Float = 0
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `exclude_modules`: modules never wrapped, in the same forms as targets.
    public var excludedModules: TargetModules? = nil
    /// `bias`.
    public var bias: LoRABiasMode = .none
    /// `use_rslora`: scale by `alpha / √r`.
    public var useRSLoRA = false
    /// `use_dora`: weight-decomposed LoRA with a trainable magnitude per output.
    public var useDoRA = false
    /// `init_lora_weights`.
    public var initialization: LoRAInitialization = .standard
    /// `layers_to_transform`: only these layer indices are wrapped.
    public var layersToTransform: [Int]? = nil
    /// `layers_pattern`: the name before the layer index (`h`, `block`).
    public var layersPattern: [String]? = nil
    /// `rank_pattern`: per-module ranks by name or regular expression.
    public var rankPattern: [String: Int] = [:]
    /// `alpha_pattern`: per-module alphas by name or regular expression.
    public var alphaPattern: [String: Float] = [:]
    /// `modules_to_save`: modules trained in full and saved with the adapter.
    public var modulesToSave: [String]? = nil
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil
    /// `fan_in_fan_out`: set for GPT-2's Conv1D, as PEFT does when it applies LoRA.
    public var fanInFanOut = false
    /// `inference_mode`.
    public var inferenceMode = false
    /// `trainable_token_indices`: embedding rows that train beside the LoRA factors.
    public var trainableTokenIndices: TrainableTokenIndices? = nil

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout LoRAConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// The rank for the module at `path`, after `rank_pattern`.
    public func rank(for path: String) -> Int {
        patternValue(rankPattern, for: path) ?? rank
    }

    /// The alpha for the module at `path`, after `alpha_pattern`.
    public func alpha(for path: String) -> Float {
        patternValue(alphaPattern, for: path) ?? alpha
    }

    /// The factor on `B·A` for the module at `path`.
    public func scaling(for path: String) -> Float {
        let rank = Float(rank(for: path))
        return useRSLoRA ? alpha(for: path) / rank.squareRoot() : alpha(for: path) / rank
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        guard rank > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "r", reason: "must be positive, got \(rank)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw AdapterError.invalidConfiguration(
                key: "lora_dropout", reason: "must be in [0, 1), got \(dropout)")
        }
        for (key, value) in rankPattern where value <= 0 {
            throw AdapterError.invalidConfiguration(
                key: "rank_pattern.\(key)", reason: "must be positive")
        }
        try targets.validateLayerSelection(
            layersToTransform: layersToTransform, layersPattern: layersPattern)
        switch trainableTokenIndices {
        case nil: break
        case .inputEmbedding(let indices):
            try validateTokenIndices(indices, key: "trainable_token_indices")
        case .modules(let byModule):
            for (module, indices) in byModule {
                try validateTokenIndices(indices, key: "trainable_token_indices.\(module)")
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case rank = "r"
        case alpha = "lora_alpha"
        case dropout = "lora_dropout"
        case targets = "target_modules"
        case excludedModules = "exclude_modules"
        case bias
        case useRSLoRA = "use_rslora"
        case useDoRA = "use_dora"
        case initialization = "init_lora_weights"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern"
        case modulesToSave = "modules_to_save"
        case fanInFanOut = "fan_in_fan_out"
        case loraBias = "lora_bias"
        case targetParameters = "target_parameters"
        case loftqConfig = "loftq_config"
        case layerReplication = "layer_replication"
        case megatronConfig = "megatron_config"
        case megatronCore = "megatron_core"
        case useQALoRA = "use_qalora"
        case qaLoRAGroupSize = "qalora_group_size"
        case trainableTokenIndices = "trainable_token_indices"
        case ensureWeightTying = "ensure_weight_tying"
        case evaConfig = "eva_config"
        case cordaConfig = "corda_config"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT's defaults, unknown keys are ignored,
    /// and features this library lacks are refused by name.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? rank
        alpha = try container.decodeIfPresent(Float.self, forKey: .alpha) ?? alpha
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? dropout
        targets = try container.decodeTargetModules(forKey: .targets) ?? .automatic
        excludedModules = try container.decodeTargetModules(
            forKey: .excludedModules, allowsAllLinear: false)
        bias = try container.decodeIfPresent(LoRABiasMode.self, forKey: .bias) ?? bias
        useRSLoRA = try container.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        useDoRA = try container.decodeIfPresent(Bool.self, forKey: .useDoRA) ?? false
        if let flag = try? container.decodeIfPresent(Bool.self, forKey: .initialization) {
            initialization = flag ? .standard : .random
        } else if let name = try container.decodeIfPresent(String.self, forKey: .initialization) {
            switch name {
            case "gaussian": initialization = .gaussian
            case "olora": initialization = .olora
            case "pissa": initialization = .pissa
            case _ where name.hasPrefix("pissa_niter_"):
                throw AdapterError.invalidConfiguration(
                    key: "init_lora_weights",
                    reason:
                        "'\(name)' (PiSSA by a randomised, inexact SVD) is not supported; 'pissa' is the exact SVD"
                )
            default:
                throw AdapterError.invalidConfiguration(
                    key: "init_lora_weights",
                    reason: "'\(name)' is not supported (true, false, gaussian, pissa, olora)")
            }
        }
        layersToTransform = try container.decodeIntOrList(forKey: .layersToTransform)
        layersPattern = try container.decodeNames(forKey: .layersPattern)
        rankPattern = try container.decodeIfPresent([String: Int].self, forKey: .rankPattern) ?? [:]
        alphaPattern =
            try container.decodeIfPresent([String: Float].self, forKey: .alphaPattern) ?? [:]
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
        fanInFanOut = try container.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        inferenceMode =
            try decoder.container(keyedBy: SharedAdapterKey.self)
            .decodeIfPresent(Bool.self, forKey: .inferenceMode) ?? false
        if try container.decodeIfPresent(Bool.self, forKey: .loraBias) == true {
            throw AdapterError.invalidConfiguration(
                key: "lora_bias", reason: "a bias on lora_B is not supported")
        }
        if try container.contains(.trainableTokenIndices)
            && !container.decodeNil(forKey: .trainableTokenIndices)
        {
            trainableTokenIndices = try TrainableTokenIndices(
                from: container.superDecoder(forKey: .trainableTokenIndices))
        }
        try Self.refuseUnsupported(in: container)
        try validate()
    }

    /// PEFT keys for features this library does not implement: refused by name when they ask for
    /// anything, rather than silently ignored. Each is refused when it is neither absent, `null`, `false`
    /// nor empty.
    static let unsupportedKeys: [CodingKeys] = [
        .layerReplication, .useQALoRA, .loftqConfig, .evaConfig, .cordaConfig, .targetParameters,
        .megatronConfig,
    ]

    private static func refuseUnsupported(in container: KeyedDecodingContainer<CodingKeys>) throws {
        for key in unsupportedKeys
        where try container.contains(key) && !container.decodeNil(forKey: key) {
            let isOff =
                (try? container.decode(Bool.self, forKey: key)) == false
                || (try? container.decode([String: JSONIgnored].self, forKey: key))?.isEmpty == true
                || (try? container.decode([JSONIgnored].self, forKey: key))?.isEmpty == true
            if !isOff {
                throw AdapterError.invalidConfiguration(
                    key: key.rawValue, reason: "is set, but this library does not support it yet")
            }
        }
    }

    /// Writes every key PEFT writes for LoRA, sorted, so Python's `LoraConfig` reads it unchanged.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encode(alpha, forKey: .alpha)
        try container.encode(dropout, forKey: .dropout)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encodeTargetModules(excludedModules, forKey: .excludedModules)
        try container.encode(bias, forKey: .bias)
        try container.encode(useRSLoRA, forKey: .useRSLoRA)
        try container.encode(useDoRA, forKey: .useDoRA)
        switch initialization {
        case .standard: try container.encode(true, forKey: .initialization)
        case .random: try container.encode(false, forKey: .initialization)
        case .gaussian: try container.encode("gaussian", forKey: .initialization)
        case .pissa: try container.encode("pissa", forKey: .initialization)
        case .olora: try container.encode("olora", forKey: .initialization)
        }
        try container.encode(layersToTransform, forKey: .layersToTransform)
        try container.encode(layersPattern, forKey: .layersPattern)
        try container.encode(rankPattern, forKey: .rankPattern)
        try container.encode(alphaPattern, forKey: .alphaPattern)
        try container.encode(modulesToSave, forKey: .modulesToSave)
        try container.encode(fanInFanOut, forKey: .fanInFanOut)
        try container.encode(false, forKey: .loraBias)
        try container.encodeNil(forKey: .targetParameters)
        try container.encode([String: Int](), forKey: .loftqConfig)
        try container.encodeNil(forKey: .layerReplication)
        try container.encodeNil(forKey: .megatronConfig)
        try container.encode("megatron.core", forKey: .megatronCore)
        try container.encode(false, forKey: .useQALoRA)
        try container.encode(16, forKey: .qaLoRAGroupSize)
        try container.encode(trainableTokenIndices, forKey: .trainableTokenIndices)
        try container.encode(false, forKey: .ensureWeightTying)
        try container.encodeNil(forKey: .evaConfig)
        try container.encodeNil(forKey: .cordaConfig)
    }
}

/// Any JSON value, decoded only to learn that it is there (an empty object or list means "off").
struct JSONIgnored: Decodable {
    init(from decoder: any Decoder) throws {}
}
