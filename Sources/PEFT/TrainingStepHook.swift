import PEFTNN
import PEFTTensor

/// What a method adds to each optimizer step of a training loop besides its forward pass, such as
/// AdaLoRA's orthogonal regulariser and rank allocation.
///
/// A loop asks the container for it once (``PEFTModel/trainingStepHook()``), adds
/// ``additionalLoss()`` to every micro-batch's loss before `backward()`, and calls
/// ``optimizerDidStep(_:)`` after each optimizer step and before the gradients are zeroed.
public protocol TrainingStepHook: AnyObject {
    /// A term to add to each micro-batch's loss, differentiable in the adapter's parameters, or `nil`.
    func additionalLoss() -> Tensor?
    /// Runs after the optimizer step `step` (counted from 0), while the gradients still hold.
    func optimizerDidStep(_ step: Int) throws
}

extension PEFTModel {
    /// The active adapter's method's per-step work, or `nil` when it needs none.
    ///
    /// Changes the hook makes to the adapter's configuration (AdaLoRA's rank pattern) are stored in
    /// ``configurations``, so a later ``save(to:adapters:)`` writes them.
    public func trainingStepHook() throws -> (any TrainingStepHook)? {
        guard let name = activeAdapter, let configuration = configurations[name] else { return nil }
        return try trainingStepHook(typed: configuration, adapterName: name)
    }

    private func trainingStepHook<C: PEFTConfiguration>(typed configuration: C, adapterName: String)
        throws -> (any TrainingStepHook)?
    {
        try C.Method.trainingStepHook(
            in: base, adapterName: adapterName, configuration: configuration
        ) { [weak self] updated in
            self?.configurations[adapterName] = updated
        }
    }
}
