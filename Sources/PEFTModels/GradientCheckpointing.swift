import PEFTNN

extension Module {
    /// Turns gradient checkpointing on or off for every decoder body in this tree (GPT-2 and the
    /// Llama family): in training each block's activations are then recomputed in backward instead of
    /// kept. Returns the number of bodies switched, 0 for a model without one (T5).
    @discardableResult
    public func useGradientCheckpointing(_ enabled: Bool = true) -> Int {
        var switched = 0
        for (_, module) in namedModules() {
            if let body = module as? GPT2Model {
                body.checkpointsBlocks = enabled
                switched += 1
            } else if let body = module as? LlamaModel {
                body.checkpointsBlocks = enabled
                switched += 1
            }
        }
        return switched
    }
}
