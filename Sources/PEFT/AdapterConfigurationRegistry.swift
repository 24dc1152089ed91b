import Foundation

/// The configuration types adapter folders can hold, by `peft_type`.
///
/// Every method of this library is registered from the start; a method defined elsewhere registers its
/// configuration once (at start-up, before loading folders of its type):
///
/// ```swift
/// AdapterConfigurationRegistry.register(ScaleShiftConfiguration.self)
/// let peft = try PEFTModel.load(model, from: folder)
/// ```
public enum AdapterConfigurationRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var types: [String: any PEFTConfiguration.Type] = [
        LoRAConfiguration.peftType: LoRAConfiguration.self,
        PromptTuningConfiguration.peftType: PromptTuningConfiguration.self,
        PTuningConfiguration.peftType: PTuningConfiguration.self,
        PrefixTuningConfiguration.peftType: PrefixTuningConfiguration.self,
        IA3Configuration.peftType: IA3Configuration.self,
        BottleneckConfiguration.peftType: BottleneckConfiguration.self,
        SelectiveConfiguration.peftType: SelectiveConfiguration.self,
        VeRAConfiguration.peftType: VeRAConfiguration.self,
        OFTConfiguration.peftType: OFTConfiguration.self,
        LoHaConfiguration.peftType: LoHaConfiguration.self,
        LoKrConfiguration.peftType: LoKrConfiguration.self,
        AdaLoRAConfiguration.peftType: AdaLoRAConfiguration.self,
        TrainableTokensConfiguration.peftType: TrainableTokensConfiguration.self,
    ]

    /// Makes folders whose `peft_type` is `type.peftType` load as `type`; a later registration of the
    /// same `peft_type` replaces the earlier one.
    public static func register(_ type: any PEFTConfiguration.Type) {
        lock.withLock { types[type.peftType] = type }
    }

    /// The configuration type registered for `peftType`.
    public static func configurationType(for peftType: String) -> (any PEFTConfiguration.Type)? {
        lock.withLock { types[peftType] }
    }

    /// Every registered `peft_type`, sorted.
    public static var registeredTypes: [String] {
        lock.withLock { types.keys.sorted() }
    }
}
