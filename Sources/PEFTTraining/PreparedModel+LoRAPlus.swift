import PEFTNN

extension PreparedModel {
    /// AdamW with LoRA+'s parameter groups (see ``LoRAPlus``), over ``trainable`` in its order so the
    /// optimizer's state saves under ``optimizerParameterNames`` as the plain optimizer's does.
    ///
    /// - Throws: ``AdapterError/invalidState(_:)`` for a method other than LoRA, or the errors of
    ///   ``LoRAPlus/parameterGroups(in:learningRate:)``.
    public func makeLoRAPlusOptimizer(
        learningRate: Float, _ loraPlus: LoRAPlus, beta2: Float = 0.999
    ) throws -> any Optimizer {
        guard method == .lora else {
            throw AdapterError.invalidState(
                "LoRA+ trains LoRA adapters; --method is \(method.rawValue)")
        }
        let groups = try loraPlus.parameterGroups(in: base, learningRate: learningRate)
        return AdamW(
            trainable.map(\.parameter), groups: groups, learningRate: learningRate, beta2: beta2,
            weightDecay: loraPlus.weightDecay)
    }
}
