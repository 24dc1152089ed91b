/// One family's row of Hugging Face PEFT's default-target mapping tables.
///
/// PEFT copies its LoRA table for LoHa, LoKr and OFT, and VeRA's agrees with it for the families
/// here, so a family states LoRA's targets and IA3's, and the rest follow. AdaLoRA's table agrees
/// too except for T5, whose row names every attention and feed-forward projection.
public struct DefaultTargetModules: Sendable, Equatable {
    /// `TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`'s row.
    public var lora: [String]
    /// `TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING`'s row.
    public var ia3: [String]
    /// `TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING`'s row.
    public var ia3FeedForward: [String]
    /// `TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING`'s row, when it differs from LoRA's.
    public var adalora: [String]? = nil

    /// The `peft_type`s whose tables are LoRA's.
    public static let typesSharingLoRATargets: Set<String> = [
        "LORA", "LOHA", "LOKR", "OFT", "VERA",
    ]

    /// A row.
    public init(lora: [String], ia3: [String], ia3FeedForward: [String]) {
        self.lora = lora
        self.ia3 = ia3
        self.ia3FeedForward = ia3FeedForward
    }

    /// The default targets for `peftType`, or `nil` when PEFT has no table for it.
    public func targets(for peftType: String) -> [String]? {
        if peftType == "IA3" { return ia3 }
        if peftType == "ADALORA" { return adalora ?? lora }
        return Self.typesSharingLoRATargets.contains(peftType) ? lora : nil
    }

    /// The feed-forward modules for `peftType` (IA3 only).
    public func feedForwardModules(for peftType: String) -> [String]? {
        peftType == "IA3" ? ia3FeedForward : nil
    }
}
