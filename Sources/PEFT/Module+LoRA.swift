import PEFTNN

extension Module {
    /// Adds a LoRA adapter of the given rank with PEFT's defaults for this model family (GPT-2: `c_attn`;
    /// T5: `q`, `v`), freezes everything else, and returns the container that manages it.
    ///
    /// ```swift
    /// let model = try GPT2LMHeadModel(contentsOf: folder)
    /// let peft = try model.applyLoRA(rank: 8, alpha: 16)
    /// peft.printTrainableParameters()
    /// ```
    @discardableResult
    public func applyLoRA(
        rank: Int = 8, alpha: Float? = nil, targets: TargetModules = .automatic, dropout: Float = 0,
        adapterName: String = "default", configure: (inout LoRAConfiguration) -> Void = { _ in }
    ) throws -> PEFTModel {
        var configuration = LoRAConfiguration {
            $0.rank = rank
            $0.alpha = alpha ?? Float(rank)
            $0.targets = targets
            $0.dropout = dropout
        }
        configure(&configuration)
        return try PEFTModel(self, configuration: configuration, adapterName: adapterName)
    }
}
