import PEFTNN
import PEFTTensor

/// One named LoRA adapter inside a layer: `A` (`[r, in]`), `B` (`[out, r]`), the scaling, and for DoRA
/// the magnitude vector.
final class LoRAFactors {
    /// `lora_A.weight`, `[r, in]`.
    let down: Parameter
    /// `lora_B.weight`, `[out, r]`.
    let up: Parameter
    /// `lora_magnitude_vector`, `[out]`, for DoRA.
    let magnitude: Parameter?
    /// `alpha / r`, or `alpha / √r` for rsLoRA.
    var scaling: Float
    /// Dropout on the adapter's input.
    let dropout: Dropout
    /// Whether the update has been folded into the base weight.
    var isMerged = false
    /// DoRA's row norms at merge time, needed to unmerge.
    var mergedNorms: Tensor?

    init(down: Tensor, up: Tensor, magnitude: Tensor?, scaling: Float, dropout: Float, seed: UInt64)
    {
        self.down = Parameter(down)
        self.up = Parameter(up)
        self.magnitude = magnitude.map { Parameter($0) }
        self.scaling = scaling
        self.dropout = Dropout(probability: dropout, seed: seed)
    }

    var rank: Int { down.shape[0] }

    /// `s·B·A` as an `[out, in]` matrix.
    func delta() -> Tensor {
        withoutGradients { matmul(up.value, down.value) * scaling }
    }
}
