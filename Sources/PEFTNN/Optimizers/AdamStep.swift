import Foundation
import PEFTTensor

/// The constants of one Adam update at a parameter's `t`-th step, and the update itself.
///
/// For a gradient `g`:
///
///     p ← p·(1 − lr·λ)                 (decoupled weight decay, AdamW)
///     g ← g + λ·p                      (coupled weight decay, Adam)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The bias corrections and step size are computed in Double and rounded to Float once, as PyTorch
/// computes them in Python floats, and every optimizer of the family runs this one element update,
/// so they agree with PyTorch and with each other bit for bit.
public struct AdamStep: Sendable {
    /// `−lr / (1 − β₁ᵗ)`.
    @usableFromInline let negativeStepSize: Float
    /// `√(1 − β₂ᵗ)`.
    @usableFromInline let biasCorrection2Root: Float
    /// `1 − β₁`, the weight of the new gradient in m.
    @usableFromInline let averageWeight: Float
    /// `1 − β₂`, the weight of the new squared gradient in v.
    @usableFromInline let squaredWeight: Float
    /// β₂.
    @usableFromInline let beta2: Float
    /// ε.
    @usableFromInline let epsilon: Float
    /// λ when the weight decay is added to the gradient, else 0.
    @usableFromInline let coupledDecay: Float
    /// `1 − lr·λ` when the weight decay is decoupled, else 1.
    @usableFromInline let shrink: Float

    /// The constants for the `step`-th update (counting from 1) with `hyperparameters`, the weight
    /// decay shrinking the parameter (AdamW) or added to the gradient (Adam).
    public init(_ hyperparameters: AdamHyperparameters, step: Int, decouplesWeightDecay: Bool) {
        precondition(step >= 1, "AdamStep: step \(step) is not positive")
        let learningRate = Double(hyperparameters.learningRate)
        let beta1 = Double(hyperparameters.beta1)
        let beta2 = Double(hyperparameters.beta2)
        negativeStepSize = Float(-learningRate / (1 - pow(beta1, Double(step))))
        biasCorrection2Root = Float((1 - pow(beta2, Double(step))).squareRoot())
        averageWeight = Float(1 - beta1)
        squaredWeight = Float(1 - beta2)
        self.beta2 = hyperparameters.beta2
        epsilon = hyperparameters.epsilon
        let weightDecay = hyperparameters.weightDecay
        coupledDecay = decouplesWeightDecay ? 0 : weightDecay
        shrink = decouplesWeightDecay ? Float(1 - learningRate * Double(weightDecay)) : 1
    }

    /// Updates one parameter element and its two moments from its gradient.
    @inlinable @inline(__always)
    public func apply(
        to value: inout Float, gradient: Float, average: inout Float, squaredAverage: inout Float
    ) {
        value *= shrink
        // With decoupled decay this adds 0·p: one code path for Adam and AdamW, at the cost of
        // turning a −0 gradient into +0.
        let g = gradient + coupledDecay * value
        average = Self.lerp(average, g, weight: averageWeight)
        squaredAverage = squaredAverage * beta2 + squaredWeight * g * g
        let denominator = squaredAverage.squareRoot() / biasCorrection2Root + epsilon
        value += negativeStepSize * average / denominator
    }

    /// Updates every element of `values` and of `moments` from `gradient`, one value per element.
    public func apply(
        to values: UnsafeMutableBufferPointer<Float>, gradient: UnsafePointer<Float>,
        moments: AdamMoments
    ) {
        precondition(
            moments.average.count == values.count,
            "AdamStep: \(moments.average.count) moments for \(values.count) values")
        let average = moments.average.pointer
        let squaredAverage = moments.squaredAverage.pointer
        // Each element's update is independent: large tensors split across the cores.
        forEachElementBlock(count: values.count) { range in
            for index in range {
                apply(
                    to: &values[index], gradient: gradient[index], average: &average[index],
                    squaredAverage: &squaredAverage[index])
            }
        }
    }

    /// `start + weight·(end − start)`, rounded as PyTorch's `lerp` rounds it.
    @usableFromInline @inline(__always)
    static func lerp(_ start: Float, _ end: Float, weight: Float) -> Float {
        weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
    }
}
