import Foundation

/// IA3's settings (`IA3`), with PEFT's keys and defaults.
public struct IA3Configuration: PEFTConfiguration, Equatable {
    /// The method: ``IA3``.
    public typealias Method = IA3
    /// `IA3`.
    public static let peftType = "IA3"
    /// `target_modules`.
    public var targets: TargetModules = .automatic
    /// `feedforward_modules`: targets whose input (not output) is scaled; a subset of the targets.
    public var feedForwardModules: TargetModules = .automatic
    /// `exclude_modules`.
    public var excludedModules: TargetModules? = nil
    /// `init_ia3_weights`: start every vector at 1, so a fresh adapter changes nothing.
    public var initializesToOne = true
    /// `modules_to_save`.
    public var modulesToSave: [String]? = nil
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil
    /// `fan_in_fan_out`: set for GPT-2's Conv1D.
    public var fanInFanOut = false

    /// A configuration with PEFT's defaults, changed by `configure`.
    public init(_ configure: (inout IA3Configuration) -> Void = { _ in }) {
        configure(&self)
    }

    /// Reads PEFT's JSON.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: JSONKey.self)
        func targets(_ key: String) throws -> TargetModules? {
            switch try container.decodeStringOrList(forKey: JSONKey(key)) {
            case nil: nil
            case .string("all-linear"): .allLinear
            case .string(let pattern): .pattern(pattern)
            case .list(let names): .suffixes(names)
            }
        }
        self.targets = try targets("target_modules") ?? .automatic
        feedForwardModules = try targets("feedforward_modules") ?? .automatic
        excludedModules = try targets("exclude_modules")
        initializesToOne =
            try container.decodeIfPresent(Bool.self, forKey: JSONKey("init_ia3_weights")) ?? true
        modulesToSave = try container.decodeIfPresent(
            [String].self, forKey: JSONKey("modules_to_save"))
        fanInFanOut =
            try container.decodeIfPresent(Bool.self, forKey: JSONKey("fan_in_fan_out")) ?? false
    }

    /// Writes PEFT's keys.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: JSONKey.self)
        func write(_ targets: TargetModules?, _ key: String) throws {
            switch targets {
            case .suffixes(let names): try container.encode(names, forKey: JSONKey(key))
            case .pattern(let pattern): try container.encode(pattern, forKey: JSONKey(key))
            case .allLinear: try container.encode("all-linear", forKey: JSONKey(key))
            default: try container.encodeNil(forKey: JSONKey(key))
            }
        }
        try write(targets, "target_modules")
        try write(feedForwardModules, "feedforward_modules")
        try write(excludedModules, "exclude_modules")
        try container.encode(initializesToOne, forKey: JSONKey("init_ia3_weights"))
        try container.encode(modulesToSave, forKey: JSONKey("modules_to_save"))
        try container.encode(fanInFanOut, forKey: JSONKey("fan_in_fan_out"))
    }
}
