import PEFTNN
import PEFTTensor

/// AdamW that updates only the selected entries of each parameter and keeps moments for those
/// alone.
///
/// For a selected element with gradient `g` at its parameter's `t`-th step, exactly as `AdamW`:
///
///     p ← p·(1 − lr·λ)                 (decoupled weight decay)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// An element outside the selection is neither decayed nor moved: it stays bit-identical, though
/// autograd computes its gradient. The moments of a partly selected parameter hold one value per
/// selected element, so the state is `2 ×` ``ParameterSelection/selectedCount`` values; for a
/// whole-tensor selection (BitFit, a pattern) every step equals `AdamW`'s bit for bit.
public final class SparseAdamW: AdamFamilyOptimizer {
    /// The selected parameters, in the selection's order.
    public let parameters: [Parameter]
    /// The entries this optimizer updates.
    public let selection: ParameterSelection
    /// The learning rate, decay rates, ε and decoupled weight decay used by the next ``step()``;
    /// the weight decay applies to the selected entries only.
    public var hyperparameters: AdamHyperparameters
    /// The number of completed calls to ``step()``.
    public internal(set) var stepCount = 0

    /// The moments of `parameters[i]`'s selected entries, or `nil` before its first gradient.
    public internal(set) var moments: [AdamMoments?]

    /// Creates an optimizer for the selected entries of `model`, with AdamW's defaults.
    ///
    /// - Throws: ``SelectiveTuningError`` if a selected parameter is missing from `model`, has
    ///   another shape, or is frozen (call ``ParameterSelection/apply(to:)`` first).
    public init(
        _ model: Module, selection: ParameterSelection, learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) throws {
        let hyperparameters = AdamHyperparameters(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay)
        let resolved = try selection.resolve(in: model)
        for (selected, parameter) in zip(selection.parameters, resolved)
        where !parameter.isTrainable {
            throw SelectiveTuningError.selectedParameterFrozen(path: selected.path)
        }
        self.parameters = resolved
        self.selection = selection
        self.hyperparameters = hyperparameters
        self.moments = Array(repeating: nil, count: resolved.count)
    }

    /// Updates the selected entries of every parameter that has a gradient, in place, and counts
    /// one step.
    public func step() {
        withoutGradients {
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                precondition(
                    gradient.shape == parameter.shape,
                    "SparseAdamW: gradient \(gradient.shape) does not match parameter "
                        + "\(parameter.shape)")
                let selected = selection.parameters[index]
                var state = moments[index] ?? AdamMoments(count: selected.selectedCount)
                state.step += 1
                let update = AdamStep(hyperparameters, step: state.step, decouplesWeightDecay: true)
                parameter.updateInPlace { value in
                    update.apply(
                        to: value, entries: selected.entries, gradient: gradient.storage.pointer,
                        moments: state)
                }
                moments[index] = state
            }
        }
        stepCount += 1
    }
}

extension AdamStep {
    /// Updates the `entries` of `values` from `gradient`, with moment `slot` belonging to the
    /// slot-th selected entry.
    fileprivate func apply(
        to values: UnsafeMutableBufferPointer<Float>, entries: SelectedEntries,
        gradient: UnsafePointer<Float>, moments: AdamMoments
    ) {
        guard case .indices(let indices) = entries else {
            apply(to: values, gradient: gradient, moments: moments)
            return
        }
        let average = moments.average.pointer
        let squaredAverage = moments.squaredAverage.pointer
        indices.withUnsafeBufferPointer { indices in
            // The indices are unique, so the slots' updates are independent, as Adam's elements are.
            forEachElementBlock(count: indices.count) { slots in
                for slot in slots {
                    let index = indices[slot]
                    apply(
                        to: &values[index], gradient: gradient[index], average: &average[slot],
                        squaredAverage: &squaredAverage[slot])
                }
            }
        }
    }
}
