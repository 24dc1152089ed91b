import Foundation
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
public final class SparseAdamW: Optimizer {
    /// The selected parameters, in the selection's order.
    public let parameters: [Parameter]
    /// The entries this optimizer updates.
    public let selection: ParameterSelection
    /// The step size used by the next ``step()``.
    public var learningRate: Float
    /// The decay rate of the gradient's moving average, β₁.
    public var beta1: Float
    /// The decay rate of the squared gradient's moving average, β₂.
    public var beta2: Float
    /// Added to the denominator for numerical stability, ε.
    public var epsilon: Float
    /// The decoupled weight decay factor, λ, applied to the selected entries only.
    public var weightDecay: Float
    /// The number of completed calls to ``step()``.
    public internal(set) var stepCount = 0

    /// The moments of `parameters[i]`'s selected entries, or `nil` before its first gradient.
    var moments: [SparseMoments?]

    /// Creates an optimizer for the selected entries of `model`, with AdamW's defaults.
    ///
    /// - Throws: ``SelectiveTuningError`` if a selected parameter is missing from `model`, has
    ///   another shape, or is frozen (call ``ParameterSelection/apply(to:)`` first).
    public init(
        _ model: Module, selection: ParameterSelection, learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) throws {
        precondition(learningRate >= 0, "SparseAdamW: negative learning rate \(learningRate)")
        precondition((0..<1).contains(beta1), "SparseAdamW: beta1 \(beta1) is not in [0, 1)")
        precondition((0..<1).contains(beta2), "SparseAdamW: beta2 \(beta2) is not in [0, 1)")
        precondition(epsilon >= 0, "SparseAdamW: negative epsilon \(epsilon)")
        precondition(weightDecay >= 0, "SparseAdamW: negative weight decay \(weightDecay)")
        let resolved = try selection.resolve(in: model)
        for (selected, parameter) in zip(selection.parameters, resolved)
        where !parameter.isTrainable {
            throw SelectiveTuningError.selectedParameterFrozen(path: selected.path)
        }
        self.parameters = resolved
        self.selection = selection
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.moments = Array(repeating: nil, count: resolved.count)
    }

    /// The number of moment values held: two per selected entry of each parameter that has taken a
    /// step.
    public var stateElementCount: Int {
        moments.reduce(0) { $0 + ($1.map { 2 * $0.average.count } ?? 0) }
    }

    /// Whether the optimizer holds moments for `parameter`.
    public func hasState(for parameter: Parameter) -> Bool {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return false }
        return moments[index] != nil
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
                let count = selection.parameters[index].selectedCount
                let state =
                    moments[index]
                    ?? SparseMoments(
                        step: 0, average: TensorStorage(count: count, repeating: 0),
                        squaredAverage: TensorStorage(count: count, repeating: 0))
                moments[index] = update(
                    parameter, entries: selection.parameters[index].entries,
                    gradient: gradient.storage.pointer, state: state)
            }
        }
        stepCount += 1
    }

    /// Applies one update to the `entries` of `parameter` and returns its advanced state.
    private func update(
        _ parameter: Parameter, entries: SelectedEntries, gradient: UnsafeMutablePointer<Float>,
        state: SparseMoments
    ) -> SparseMoments {
        var state = state
        state.step += 1
        let step = Double(state.step)
        let learningRate = Double(self.learningRate)
        let biasCorrection1 = 1 - pow(Double(beta1), step)
        let biasCorrection2 = 1 - pow(Double(beta2), step)
        let negativeStepSize = Float(-learningRate / biasCorrection1)
        let biasCorrection2Root = Float(biasCorrection2.squareRoot())
        let averageWeight = Float(1 - Double(beta1))
        let squaredWeight = Float(1 - Double(beta2))
        let beta2 = self.beta2
        let epsilon = self.epsilon
        let shrink = Float(1 - learningRate * Double(weightDecay))
        let average = state.average.pointer
        let squaredAverage = state.squaredAverage.pointer
        // The same arithmetic as Adam's loop, with moment `slot` belonging to element `index`.
        func updateEntry(_ value: UnsafeMutableBufferPointer<Float>, slot: Int, index: Int) {
            value[index] *= shrink
            // AdamW adds its coupled-decay term, 0·p, to g; kept so signed zeros round alike.
            let g = gradient[index] + 0 * value[index]
            average[slot] = lerp(average[slot], g, weight: averageWeight)
            squaredAverage[slot] = squaredAverage[slot] * beta2 + squaredWeight * g * g
            let denominator = squaredAverage[slot].squareRoot() / biasCorrection2Root + epsilon
            value[index] += negativeStepSize * average[slot] / denominator
        }
        parameter.updateInPlace { value in
            switch entries {
            case .all:
                for index in value.indices { updateEntry(value, slot: index, index: index) }
            case .indices(let indices):
                indices.withUnsafeBufferPointer { indices in
                    for (slot, index) in indices.enumerated() {
                        updateEntry(value, slot: slot, index: index)
                    }
                }
            }
        }
        return state
    }
}

/// One parameter's moments over its selected entries: PyTorch's `step`, `exp_avg`, `exp_avg_sq`.
struct SparseMoments {
    /// The number of updates this parameter has received.
    var step: Int
    /// The moving average of the gradient, one value per selected entry.
    let average: TensorStorage
    /// The moving average of the squared gradient, one value per selected entry.
    let squaredAverage: TensorStorage
}

/// `start + weight·(end − start)`, rounded as PyTorch's `lerp` rounds it.
@inline(__always)
private func lerp(_ start: Float, _ end: Float, weight: Float) -> Float {
    weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
}
