import Foundation
import PEFTTensor

/// Adam with L2 weight decay added to the gradient, as `torch.optim.Adam` computes it.
///
/// For a gradient `g` at the parameter's `t`-th step:
///
///     g ← g + λ·p                      (coupled weight decay, when λ ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// with the bias corrections and step size in Double, as PyTorch computes them in Python floats.
/// ``AdamW`` is the same update with the weight decay decoupled from the gradient.
public class Adam: Optimizer {
    /// The parameters this optimizer updates: those that were trainable when it was created.
    public let parameters: [Parameter]
    /// The step size used by the next ``step()``.
    public var learningRate: Float
    /// The decay rate of the gradient's moving average, β₁.
    public var beta1: Float
    /// The decay rate of the squared gradient's moving average, β₂.
    public var beta2: Float
    /// Added to the denominator for numerical stability, ε.
    public var epsilon: Float
    /// The weight decay factor, λ.
    public var weightDecay: Float
    /// Whether weight decay shrinks the parameters directly (`p ← p·(1 − lr·λ)` before the update,
    /// AdamW) instead of adding `λ·p` to the gradient (Adam).
    public let decouplesWeightDecay: Bool
    /// The number of completed calls to ``step()``.
    public internal(set) var stepCount = 0

    /// The moments and step count of `parameters[i]`, or `nil` before its first gradient.
    var moments: [AdamMoments?]

    /// Creates an optimizer for the trainable ones among `parameters`.
    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decouplesWeightDecay: Bool = false
    ) {
        precondition(learningRate >= 0, "Adam: negative learning rate \(learningRate)")
        precondition((0..<1).contains(beta1), "Adam: beta1 \(beta1) is not in [0, 1)")
        precondition((0..<1).contains(beta2), "Adam: beta2 \(beta2) is not in [0, 1)")
        precondition(epsilon >= 0, "Adam: negative epsilon \(epsilon)")
        precondition(weightDecay >= 0, "Adam: negative weight decay \(weightDecay)")
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decouplesWeightDecay = decouplesWeightDecay
        self.moments = Array(repeating: nil, count: self.parameters.count)
    }

    /// The number of moment values held: two per element of each parameter that has taken a step.
    public var stateElementCount: Int {
        moments.reduce(0) { $0 + ($1.map { 2 * $0.average.count } ?? 0) }
    }

    /// Whether the optimizer holds moments for `parameter`.
    public func hasState(for parameter: Parameter) -> Bool {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return false }
        return moments[index] != nil
    }

    /// Updates every parameter that has a gradient, in place, and counts one step.
    public func step() {
        withoutGradients {
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                precondition(
                    gradient.shape == parameter.shape,
                    "Adam: gradient \(gradient.shape) does not match parameter \(parameter.shape)")
                let state =
                    moments[index]
                    ?? AdamMoments(
                        step: 0,
                        average: TensorStorage(count: parameter.count, repeating: 0),
                        squaredAverage: TensorStorage(count: parameter.count, repeating: 0))
                moments[index] = update(parameter, gradient: gradient.storage.pointer, state: state)
            }
        }
        stepCount += 1
    }

    /// Applies one update to `parameter` and returns its advanced state.
    private func update(
        _ parameter: Parameter, gradient: UnsafeMutablePointer<Float>, state: AdamMoments
    ) -> AdamMoments {
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
        let coupledDecay = decouplesWeightDecay ? 0 : weightDecay
        let shrink = decouplesWeightDecay ? Float(1 - learningRate * Double(weightDecay)) : 1
        let average = state.average.pointer
        let squaredAverage = state.squaredAverage.pointer
        parameter.updateInPlace { value in
            // Each element's update is independent: large tensors split across the cores.
            forEachElementBlock(count: value.count) { range in
                for index in range {
                    value[index] *= shrink
                    let g = gradient[index] + coupledDecay * value[index]
                    average[index] = lerp(average[index], g, weight: averageWeight)
                    squaredAverage[index] = squaredAverage[index] * beta2 + squaredWeight * g * g
                    let denominator =
                        squaredAverage[index].squareRoot() / biasCorrection2Root + epsilon
                    value[index] += negativeStepSize * average[index] / denominator
                }
            }
        }
        return state
    }
}

/// One parameter's Adam state: PyTorch's `step`, `exp_avg` and `exp_avg_sq`.
struct AdamMoments {
    /// The number of updates this parameter has received.
    var step: Int
    /// The moving average of the gradient, m.
    let average: TensorStorage
    /// The moving average of the squared gradient, v.
    let squaredAverage: TensorStorage
}

/// `start + weight·(end − start)`, rounded as PyTorch's `lerp` rounds it.
@inline(__always)
private func lerp(_ start: Float, _ end: Float, weight: Float) -> Float {
    weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
}
