import PEFTNN
import PEFTTensor

/// One LyCORIS-family adapter inside a layer (LoHa's Hadamard factors, LoKr's Kronecker factors):
/// its tensors, the weight update they make, and its two training-time dropouts.
public protocol LyCORISAdapter: AdapterTensors {
    /// The update `ΔW`, `[out, in]` as `nn.Linear` stores a weight, scaled by `alpha / r`; recorded
    /// for autograd when a factor trains.
    func delta() -> Tensor
    /// Draws the rank-dropout masks (over the update's output rows), active only while training.
    var rankDropout: Dropout { get }
    /// Draws the module-dropout decision, once per forward pass, active only while training.
    var moduleDropout: Dropout { get }
    /// Whether a rank-dropout mask is divided by its mean (LoHa always; LoKr with
    /// `rank_dropout_scale`).
    var scalesRankDropout: Bool { get }
}

extension LyCORISAdapter {
    /// The Kaiming-uniform initialisation PyTorch's `kaiming_uniform_(a=√5)` gives a matrix:
    /// uniform in `±1/√fan_in`, `fan_in` being the second dimension.
    static func kaimingUniform(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(max(shape[1], 1)).squareRoot()
        return Tensor.uniform(shape, in: -bound..<bound, using: &generator)
    }
}
