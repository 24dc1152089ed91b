import Foundation

/// The settings LoHa and LoKr share (PEFT's `LycorisConfig` and the fields both configurations
/// repeat), with PEFT 0.21's keys and defaults, read and written in one place.
public struct LyCORISSettings: Equatable, Sendable {
    /// `r`: the rank of the factors.
    public var rank = 8
    /// `alpha`: the update is scaled by `alpha / r`.
    public var alpha: Float = 8
    /// `rank_dropout`: while training, each output row of the update is dropped with this
    /// probability.
    public var rankDropout: Float = 0
    /// `module_dropout`: while training, the whole update is skipped with this probability, drawn
    /// once per forward pass.
    public var moduleDropout: Float = 0
    /// `use_effective_conv2d`: PEFT's CP-decomposed convolution kernels; recorded, and without effect
    /// on the linear layers this library wraps (as in PEFT).
    public var usesEffectiveConv2d = false
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `exclude_modules`: modules never wrapped, in the same forms as targets.
    public var excludedModules: TargetModules? = nil
    /// `layers_to_transform`: only these layer indices are wrapped.
    public var layersToTransform: [Int]? = nil
    /// `layers_pattern`: the name before the layer index (`layers`, `block`).
    public var layersPattern: [String]? = nil
    /// `rank_pattern`: per-module ranks, keyed by a name or regular expression that must match the
    /// end of the module path.
    public var rankPattern: [String: Int] = [:]
    /// `alpha_pattern`: per-module alphas, keyed as ``rankPattern``.
    public var alphaPattern: [String: Float] = [:]
    /// `modules_to_save`.
    public var modulesToSave: [String]? = nil
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil

    /// PEFT's defaults.
    public init() {}

    /// The rank for the module at `path`, after `rank_pattern`.
    public func rank(for path: String) -> Int {
        patternValue(rankPattern, for: path) ?? rank
    }

    /// The alpha for the module at `path`, after `alpha_pattern`.
    public func alpha(for path: String) -> Float {
        patternValue(alphaPattern, for: path) ?? alpha
    }

    /// The factor on the update for the module at `path`: `alpha / r`, both after the patterns.
    public func scaling(for path: String) -> Float {
        alpha(for: path) / Float(rank(for: path))
    }

    /// Checks values that cannot work, naming the key.
    public func validate() throws {
        guard rank > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "r", reason: "must be positive, got \(rank)")
        }
        guard alpha.isFinite else {
            throw AdapterError.invalidConfiguration(
                key: "alpha", reason: "must be a finite number, got \(alpha)")
        }
        for (key, probability) in [
            ("rank_dropout", rankDropout), ("module_dropout", moduleDropout),
        ]
        where !(probability >= 0 && probability < 1) {
            throw AdapterError.invalidConfiguration(
                key: key, reason: "must be in [0, 1), got \(probability)")
        }
        for (key, value) in rankPattern.sorted(by: { $0.key < $1.key }) {
            guard value > 0 else {
                throw AdapterError.invalidConfiguration(
                    key: "rank_pattern.\(key)", reason: "must be positive, got \(value)")
            }
        }
        for (key, value) in alphaPattern.sorted(by: { $0.key < $1.key }) where !value.isFinite {
            throw AdapterError.invalidConfiguration(
                key: "alpha_pattern.\(key)", reason: "must be a finite number, got \(value)")
        }
        for (name, keys) in [
            ("rank_pattern", Array(rankPattern.keys)), ("alpha_pattern", Array(alphaPattern.keys)),
        ] {
            for key in keys.sorted() where (try? Regex("(.*\\.)?(\(key))")) == nil {
                throw AdapterError.invalidConfiguration(
                    key: "\(name).\(key)", reason: "is not a valid regular expression")
            }
        }
        try targets.validateLayerSelection(
            layersToTransform: layersToTransform, layersPattern: layersPattern)
    }

    enum CodingKeys: String, CodingKey {
        case rank = "r"
        case alpha
        case rankDropout = "rank_dropout"
        case moduleDropout = "module_dropout"
        case usesEffectiveConv2d = "use_effective_conv2d"
        case targets = "target_modules"
        case excludedModules = "exclude_modules"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern"
        case modulesToSave = "modules_to_save"
    }

    /// Reads the shared keys of a LoHa or LoKr `adapter_config.json`; absent keys take PEFT's
    /// defaults. The caller validates once it has read its own keys too.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? rank
        alpha = try container.decodeIfPresent(Float.self, forKey: .alpha) ?? alpha
        rankDropout = try container.decodeIfPresent(Float.self, forKey: .rankDropout) ?? 0
        moduleDropout = try container.decodeIfPresent(Float.self, forKey: .moduleDropout) ?? 0
        usesEffectiveConv2d =
            try container.decodeIfPresent(Bool.self, forKey: .usesEffectiveConv2d) ?? false
        targets = try container.decodeTargetModules(forKey: .targets) ?? .automatic
        excludedModules = try container.decodeTargetModules(
            forKey: .excludedModules, allowsAllLinear: false)
        layersToTransform = try container.decodeIntOrList(forKey: .layersToTransform)
        layersPattern = try container.decodeNames(forKey: .layersPattern)
        rankPattern = try container.decodeIfPresent([String: Int].self, forKey: .rankPattern) ?? [:]
        alphaPattern =
            try container.decodeIfPresent([String: Float].self, forKey: .alphaPattern) ?? [:]
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
    }

    /// Writes the keys LoHa and LoKr share as PEFT writes them; the method's own keys and the keys
    /// every method shares go into the same JSON object.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encode(alpha, forKey: .alpha)
        try container.encode(rankDropout, forKey: .rankDropout)
        try container.encode(moduleDropout, forKey: .moduleDropout)
        try container.encode(usesEffectiveConv2d, forKey: .usesEffectiveConv2d)
        try container.encodeTargetModules(targets, forKey: .targets)
        try container.encodeTargetModules(excludedModules, forKey: .excludedModules)
        try container.encode(layersToTransform, forKey: .layersToTransform)
        try container.encode(layersPattern, forKey: .layersPattern)
        try container.encode(rankPattern, forKey: .rankPattern)
        try container.encode(alphaPattern, forKey: .alphaPattern)
        try container.encode(modulesToSave, forKey: .modulesToSave)
    }
}
