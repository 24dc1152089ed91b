extension PreparedModel {
    /// The adapter method's per-step work for a training loop (AdaLoRA's regulariser and rank
    /// allocation), or `nil` when the method, or the absence of an adapter, needs none.
    public func trainingStepHook() throws -> (any TrainingStepHook)? {
        try adapter?.trainingStepHook()
    }
}
