import Foundation

/// The `adapter_config.json` keys that every method reads and writes the same way.
///
/// A configuration decodes and encodes its own keys through its own `CodingKeys`, and these through a
/// second keyed container on the same decoder or encoder: both land in one JSON object, so each
/// method's key list names only what is its own.
enum SharedAdapterKey: String, CodingKey {
    case peftType = "peft_type"
    case taskType = "task_type"
    case baseModelNameOrPath = "base_model_name_or_path"
    case inferenceMode = "inference_mode"
    case revision
    case peftVersion = "peft_version"
    case autoMapping = "auto_mapping"
}

/// The `peft_version` this library writes, unless a method needs PEFT's loader to see a release number.
let writtenPEFTVersion = "swift-peft"

extension PEFTConfiguration {
    /// Checks `peft_type` against `peftType` (an absent one passes unless `requiresPEFTType`), then reads
    /// `task_type` and `base_model_name_or_path`.
    mutating func decodeSharedFields(
        from decoder: any Decoder, peftType: String = Self.peftType,
        requiresPEFTType: Bool = false
    ) throws {
        let container = try decoder.container(keyedBy: SharedAdapterKey.self)
        try container.checkPEFTType(peftType, forKey: .peftType, required: requiresPEFTType)
        taskType = try container.decodeIfPresent(String.self, forKey: .taskType)
        baseModelNameOrPath = try container.decodeIfPresent(
            String.self, forKey: .baseModelNameOrPath)
    }

    /// Writes `peft_type`, `task_type`, `base_model_name_or_path`, `inference_mode: true` (a saved
    /// adapter loads for inference, as PEFT saves it), `peft_version`, and PEFT's null `revision` and
    /// `auto_mapping`.
    func encodeSharedFields(
        to encoder: any Encoder, peftType: String = Self.peftType,
        peftVersion: String = writtenPEFTVersion
    ) throws {
        var container = encoder.container(keyedBy: SharedAdapterKey.self)
        try container.encode(peftType, forKey: .peftType)
        try container.encode(taskType, forKey: .taskType)
        try container.encode(baseModelNameOrPath, forKey: .baseModelNameOrPath)
        try container.encode(true, forKey: .inferenceMode)
        try container.encode(peftVersion, forKey: .peftVersion)
        try container.encodeNil(forKey: .revision)
        try container.encodeNil(forKey: .autoMapping)
    }
}
