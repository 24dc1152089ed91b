import PEFTNN

/// Every module, so that conveniences like ``applyLoRA(rank:alpha:targets:dropout:adapterName:configure:)``
/// return a ``PEFTModel`` typed by the module they were called on.
public protocol PEFTBaseModel: Module {}

extension Module: PEFTBaseModel {}

extension PEFTBaseModel {
    /// Adds a LoRA adapter of the given rank to the family's default targets (GPT-2: `c_attn`;
    /// T5: `q`, `v`), freezes everything else, and returns the container that manages it.
    ///
    /// `alpha` defaults to twice the rank (a scaling of 2), the library's one default for every entry
    /// point (`peft train`, the examples); a ``LoRAConfiguration`` built by hand or read from a file
    /// keeps PEFT's own `lora_alpha` default of 8.
    ///
    /// ```swift
    /// let model = try GPT2LMHeadModel(contentsOf: folder)
    /// let peft = try model.applyLoRA(rank: 8)
    /// peft.printTrainableParameters()
    /// ```
    @discardableResult
    public func applyLoRA(
        rank: Int = 8, alpha: Float? = nil, targets: TargetModules = .automatic, dropout: Float = 0,
        adapterName: String = "default", configure: (inout LoRAConfiguration) -> Void = { _ in }
    ) throws -> PEFTModel<Self> {
        var configuration = LoRAConfiguration {
            $0.rank = rank
            $0.alpha = alpha ?? LoRAConfiguration.defaultAlpha(forRank: rank)
            $0.targets = targets
            $0.dropout = dropout
        }
        configure(&configuration)
        return try PEFTModel(self, configuration: configuration, adapterName: adapterName)
    }
}

extension LoRAConfiguration {
    /// The library's default alpha for a rank: twice the rank, so the update's scaling is 2.
    public static func defaultAlpha(forRank rank: Int) -> Float { Float(2 * rank) }
}
