import Foundation
import PEFTTensor

/// Updates a fixed list of parameters in place from their accumulated gradients.
///
/// An optimizer holds the parameters that were trainable when it was created and keeps state
/// (moments, momentum) only for those, allocated at the first step in which a parameter has a
/// gradient. A parameter without a gradient at a step is skipped and its state left untouched, as
/// PyTorch does.
///
/// A training step reads like PyTorch's:
///
/// ```swift
/// let optimizer = AdamW(model.trainableParameters, learningRate: 2e-4)
/// for (step, batch) in batches.enumerated() {
///     optimizer.learningRate = schedule.learningRate(atStep: step, base: 2e-4)
///     crossEntropy(logits: model(batch.inputs), targets: batch.targets).backward()
///     clipGradientNorm(optimizer.parameters, maxNorm: 1)
///     optimizer.step()
///     optimizer.zeroGradients()
/// }
/// ```
///
/// ## Gradient accumulation
///
/// Backward adds into each parameter's gradient until ``zeroGradients()`` drops it, so a large
/// batch can be split into `k` micro-batches: run backward on each micro-batch's loss divided by
/// `k`, then call ``step()`` and ``zeroGradients()`` once. With a mean loss and equal
/// micro-batches the summed gradient equals the full batch's, and so does the step.
///
/// ```swift
/// for microBatch in batch.split(into: 4) {
///     let loss = crossEntropy(logits: model(microBatch.inputs), targets: microBatch.targets)
///     (loss / 4).backward()
/// }
/// optimizer.step()
/// optimizer.zeroGradients()
/// ```
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates: those that were trainable when it was created.
    var parameters: [Parameter] { get }

    /// The step size used by the next ``step()``; set it before each step to follow a schedule.
    var learningRate: Float { get set }

    /// The number of completed calls to ``step()``, as saved and restored with the state.
    var stepCount: Int { get }

    /// The total number of Float32 values of state the optimizer holds across all parameters.
    var stateElementCount: Int { get }

    /// Updates every parameter that has a gradient, in place, and counts one step.
    func step()

    /// Drops every parameter's gradient, so the next backward starts from zero.
    func zeroGradients()

    /// Whether the optimizer holds state (moments, momentum) for `parameter`.
    func hasState(for parameter: Parameter) -> Bool

    /// Writes the optimizer's state to a safetensors file so training can resume exactly.
    ///
    /// `parameterNames[i]` names `parameters[i]`; tensors are stored as `<name>.<state>` with
    /// PyTorch's state names, and the metadata records the optimizer, step count and
    /// hyperparameters. The write is atomic.
    func saveState(to url: URL, parameterNames: [String]) throws

    /// Replaces the optimizer's state, step count and hyperparameters with those saved in `url`.
    ///
    /// `parameterNames[i]` names `parameters[i]`, as when saving. Nothing changes unless the whole
    /// file is valid.
    ///
    /// - Throws: ``OptimizerStateError`` naming the file and key when the file was written by
    ///   another optimizer, lacks a key, has an unknown key or a tensor of the wrong shape.
    func loadState(from url: URL, parameterNames: [String]) throws
}

extension Optimizer {
    /// Drops every parameter's gradient, so the next backward starts from zero.
    public func zeroGradients() {
        let region = OperationProfiler.enter(.optimizer)
        defer { region.end() }
        for parameter in parameters { parameter.zeroGradient() }
    }
}
