import PEFT

/// The settings of a scale-and-shift adapter, stored as `adapter_config.json` with `peft_type`
/// `SCALE_SHIFT`.
public struct ScaleShiftConfiguration: PEFTConfiguration, Equatable {
    /// The method that applies it.
    public typealias Method = ScaleShift
    /// `SCALE_SHIFT`: a type of this package's own, unknown to Hugging Face PEFT.
    public static let peftType = "SCALE_SHIFT"

    /// `target_modules`: the linear layers whose outputs are rescaled and shifted.
    public var targets: [String]
    /// `task_type`.
    public var taskType: String?
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String?

    /// A configuration for `targets`.
    public init(targets: [String]) {
        self.targets = targets
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type"
        case targets = "target_modules"
        case taskType = "task_type"
        case baseModelNameOrPath = "base_model_name_or_path"
    }

    /// Reads the file, checking its `peft_type`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkPEFTType(Self.peftType, forKey: .peftType, required: true)
        targets = try container.decode([String].self, forKey: .targets)
        taskType = try container.decodeIfPresent(String.self, forKey: .taskType)
        baseModelNameOrPath = try container.decodeIfPresent(
            String.self, forKey: .baseModelNameOrPath)
    }

    /// Writes every key, `peft_type` included.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.peftType, forKey: .peftType)
        try container.encode(targets, forKey: .targets)
        try container.encode(taskType, forKey: .taskType)
        try container.encode(baseModelNameOrPath, forKey: .baseModelNameOrPath)
    }
}
