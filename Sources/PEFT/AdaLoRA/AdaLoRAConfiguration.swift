import Foundation

/// AdaLoRA's settings (`ADALORA`), with PEFT 0.21's keys and defaults, read from and written to
/// `adapter_config.json`.
///
/// PEFT's `AdaLoraConfig` subclasses `LoraConfig`, so the file carries LoRA's keys too; of those,
/// AdaLoRA uses `lora_alpha`, `lora_dropout`, `fan_in_fan_out`, `bias`, `init_lora_weights` and the
/// targeting keys. `r` is ignored (``initialRank`` sets the rank), and DoRA and LoftQ are refused, as
/// PEFT refuses them.
public struct AdaLoRAConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``AdaLoRA``.
    public typealias Method = AdaLoRA
    /// `ADALORA`.
    public static let peftType = "ADALORA"
    /// `r`: LoRA's rank, unused by AdaLoRA (PEFT warns when it is not 8); kept so the file round-trips.
    public var rank = 8
    /// `lora_alpha`: the update is scaled by `alpha / ranknum` (by `init_r / ranknum` when `alpha ≤ 0`).
    public var alpha: Float = 8
    /// `lora_dropout`: dropout on the adapter's input while training.
    public var dropout: Float = 0
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `exclude_modules`: modules never wrapped, in the same forms as targets.
    public var excludedModules: TargetModules? = nil
    /// `bias`.
    public var bias: LoRABiasMode = .none
    /// `init_lora_weights`: `true` starts `lora_E` at zero (a fresh adapter changes nothing) and `lora_A`,
    /// `lora_B` normal with standard deviation 0.02; `false` draws all three standard normal.
    public var initializesWeights = true
    /// `fan_in_fan_out`: set for GPT-2's Conv1D, as PEFT does when it applies AdaLoRA.
    public var fanInFanOut = false
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
    /// `target_r`: the average rank per layer the budget shrinks to.
    public var targetRank = 8
    /// `init_r`: every layer's rank at the start, and `ranknum` in the scaling.
    public var initialRank = 12
    /// `tinit`: the warm-up steps before any rank is masked.
    public var initialWarmupSteps = 0
    /// `tfinal`: the final steps that train at the allocated ranks.
    public var finalSteps = 0
    /// `deltaT`: masks are applied every this many steps while the budget shrinks.
    public var allocationInterval = 1
    /// `beta1`: the smoothing of the sensitivity |w·∂L/∂w|.
    public var sensitivityMomentum = 0.85
    /// `beta2`: the smoothing of the sensitivity's uncertainty.
    public var uncertaintyMomentum = 0.85
    /// `orth_reg_weight`: the weight of the orthogonal regulariser added to the training loss.
    public var orthogonalRegularizationWeight: Float = 0.5
    /// `total_step`: the length of the training run the budget schedule spans; required, as in PEFT.
    public var totalSteps: Int? = nil
    /// `rank_pattern`: the allocator's keep-mask for each layer, keyed `<module path>.lora_E`; set by
    /// ``RankAllocator`` while training. A saved adapter holds only the kept ranks, and loading resizes
    /// the layers to them first.
    public var rankPattern: [String: [Bool]]? = nil

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout AdaLoRAConfiguration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Sets ``totalSteps`` to a run of `steps` optimizer steps, with the first tenth as warm-up
    /// (``initialWarmupSteps``) and the last fifth (``finalSteps``) training at the final ranks.
    ///
    /// PEFT's own examples spread the three phases in about these proportions; `peft train` uses it.
    public mutating func scheduleBudget(totalSteps steps: Int) {
        totalSteps = steps
        initialWarmupSteps = steps / 10
        finalSteps = steps / 5
    }

    /// The keep-mask recorded for the layer at `path`, if any.
    public func rankMask(forLayerAt path: String) -> [Bool]? {
        rankPattern?["\(path).lora_E"]
    }

    /// Checks values that cannot work, naming the key, as `AdaLoraConfig.__post_init__` and the
    /// allocator check them.
    public func validate() throws {
        guard initialRank >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "init_r", reason: "must not be negative, got \(initialRank)")
        }
        guard targetRank >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "target_r", reason: "must not be negative, got \(targetRank)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw AdapterError.invalidConfiguration(
                key: "lora_dropout", reason: "must be in [0, 1), got \(dropout)")
        }
        guard let totalSteps, totalSteps > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "total_step",
                reason: "AdaLoRA needs the length of the training run, a value > 0")
        }
        guard orthogonalRegularizationWeight >= 0 else {
            throw AdapterError.invalidConfiguration(
                key: "orth_reg_weight",
                reason: "must not be negative, got \(orthogonalRegularizationWeight)")
        }
        guard initialWarmupSteps >= 0, finalSteps >= 0,
            initialWarmupSteps < totalSteps - finalSteps
        else {
            throw AdapterError.invalidConfiguration(
                key: "tinit",
                reason:
                    "tinit \(initialWarmupSteps) and tfinal \(finalSteps) leave no budgeting phase in "
                    + "total_step \(totalSteps); decrease tfinal or tinit, or increase total_step")
        }
        guard allocationInterval > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "deltaT", reason: "must be positive, got \(allocationInterval)")
        }
        for (key, value) in [("beta1", sensitivityMomentum), ("beta2", uncertaintyMomentum)]
        where !(value > 0 && value < 1) {
            throw AdapterError.invalidConfiguration(
                key: key, reason: "must be in (0, 1), got \(value)")
        }
        for (key, mask) in rankPattern ?? [:] where mask.count != initialRank {
            throw AdapterError.invalidConfiguration(
                key: "rank_pattern.\(key)",
                reason: "has \(mask.count) entries, but init_r is \(initialRank)")
        }
        try targets.validateLayerSelection(
            layersToTransform: layersToTransform, layersPattern: layersPattern)
    }

    enum CodingKeys: String, CodingKey {
        case rank = "r"
        case alpha = "lora_alpha"
        case dropout = "lora_dropout"
        case targets = "target_modules"
        case excludedModules = "exclude_modules"
        case bias
        case initializesWeights = "init_lora_weights"
        case fanInFanOut = "fan_in_fan_out"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case modulesToSave = "modules_to_save"
        case targetRank = "target_r"
        case initialRank = "init_r"
        case initialWarmupSteps = "tinit"
        case finalSteps = "tfinal"
        case allocationInterval = "deltaT"
        case sensitivityMomentum = "beta1"
        case uncertaintyMomentum = "beta2"
        case orthogonalRegularizationWeight = "orth_reg_weight"
        case totalSteps = "total_step"
        case rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern"
        case useRSLoRA = "use_rslora"
        case useDoRA = "use_dora"
        case loftqConfig = "loftq_config"
        case loraBias = "lora_bias"
    }

    /// Reads a PEFT `adapter_config.json`; absent keys take PEFT's defaults, unknown keys are ignored,
    /// and DoRA, LoftQ and a bias on `lora_B` are refused by name.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? 8
        alpha = try container.decodeIfPresent(Float.self, forKey: .alpha) ?? 8
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        targets = try container.decodeTargetModules(forKey: .targets) ?? .automatic
        excludedModules = try container.decodeTargetModules(
            forKey: .excludedModules, allowsAllLinear: false)
        bias = try container.decodeIfPresent(LoRABiasMode.self, forKey: .bias) ?? .none
        if container.contains(.initializesWeights) {
            guard let flag = try? container.decode(Bool.self, forKey: .initializesWeights) else {
                throw AdapterError.invalidConfiguration(
                    key: "init_lora_weights", reason: "AdaLoRA takes true or false only")
            }
            initializesWeights = flag
        }
        fanInFanOut = try container.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        layersToTransform = try container.decodeIntOrList(forKey: .layersToTransform)
        layersPattern = try container.decodeNames(forKey: .layersPattern)
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
        targetRank = try container.decodeIfPresent(Int.self, forKey: .targetRank) ?? 8
        initialRank = try container.decodeIfPresent(Int.self, forKey: .initialRank) ?? 12
        initialWarmupSteps =
            try container.decodeIfPresent(Int.self, forKey: .initialWarmupSteps) ?? 0
        finalSteps = try container.decodeIfPresent(Int.self, forKey: .finalSteps) ?? 0
        allocationInterval =
            try container.decodeIfPresent(Int.self, forKey: .allocationInterval) ?? 1
        sensitivityMomentum =
            try container.decodeIfPresent(Double.self, forKey: .sensitivityMomentum) ?? 0.85
        uncertaintyMomentum =
            try container.decodeIfPresent(Double.self, forKey: .uncertaintyMomentum) ?? 0.85
        orthogonalRegularizationWeight =
            try container.decodeIfPresent(Float.self, forKey: .orthogonalRegularizationWeight)
            ?? 0.5
        totalSteps = try container.decodeIfPresent(Int.self, forKey: .totalSteps)
        rankPattern = try container.decodeIfPresent([String: [Bool]].self, forKey: .rankPattern)
        if try container.decodeIfPresent(Bool.self, forKey: .useDoRA) == true {
            throw AdapterError.invalidConfiguration(
                key: "use_dora", reason: "AdaLoRA does not support DoRA")
        }
        if try container.contains(.loftqConfig) && !container.decodeNil(forKey: .loftqConfig),
            (try? container.decode([String: JSONIgnored].self, forKey: .loftqConfig))?.isEmpty
                != true
        {
            throw AdapterError.invalidConfiguration(
                key: "loftq_config", reason: "AdaLoRA does not support LoftQ")
        }
        if try container.decodeIfPresent(Bool.self, forKey: .loraBias) == true {
            throw AdapterError.invalidConfiguration(
                key: "lora_bias", reason: "a bias on lora_B is not supported")
        }
        try validate()
    }

    /// Writes AdaLoRA's keys and the LoRA keys PEFT writes with them, so Python's `AdaLoraConfig`
    /// reads the file unchanged.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encode(alpha, forKey: .alpha)
        try container.encode(dropout, forKey: .dropout)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encodeTargetModules(excludedModules, forKey: .excludedModules)
        try container.encode(bias, forKey: .bias)
        try container.encode(initializesWeights, forKey: .initializesWeights)
        try container.encode(fanInFanOut, forKey: .fanInFanOut)
        try container.encode(layersToTransform, forKey: .layersToTransform)
        try container.encode(layersPattern, forKey: .layersPattern)
        try container.encode(modulesToSave, forKey: .modulesToSave)
        try container.encode(targetRank, forKey: .targetRank)
        try container.encode(initialRank, forKey: .initialRank)
        try container.encode(initialWarmupSteps, forKey: .initialWarmupSteps)
        try container.encode(finalSteps, forKey: .finalSteps)
        try container.encode(allocationInterval, forKey: .allocationInterval)
        try container.encode(sensitivityMomentum, forKey: .sensitivityMomentum)
        try container.encode(uncertaintyMomentum, forKey: .uncertaintyMomentum)
        try container.encode(
            orthogonalRegularizationWeight, forKey: .orthogonalRegularizationWeight)
        try container.encode(totalSteps, forKey: .totalSteps)
        try container.encode(rankPattern, forKey: .rankPattern)
        try container.encode([String: Float](), forKey: .alphaPattern)
        try container.encode(false, forKey: .useRSLoRA)
        try container.encode(false, forKey: .useDoRA)
        try container.encode([String: Int](), forKey: .loftqConfig)
        try container.encode(false, forKey: .loraBias)
    }
}
