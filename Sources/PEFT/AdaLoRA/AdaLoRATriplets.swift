import PEFTNN
import PEFTTensor

/// One AdaLoRA adapter inside a layer, the update in SVD form `ΔW = B·(A ⊙ E)·s`: right singular
/// vectors `A` (`[r, in]`), singular values `E` (`[r, 1]`), left singular vectors `B` (`[out, r]`).
///
/// The factor is `s = scaling / (ranknum + 1e-5)`, as PEFT's `SVDLinear` computes it; `ranknum` is
/// the rank the layer was made with (`init_r`), which stays even when a saved adapter loads at a
/// smaller rank, so the kept triplets act as they did before the others were cut.
public final class AdaLoRATriplets: AdapterTensors {
    /// `lora_A`, `[r, in]`.
    public let down: Parameter
    /// `lora_E`, `[r, 1]`: the singular values the allocator masks.
    public let singularValues: Parameter
    /// `lora_B`, `[out, r]`.
    public let up: Parameter
    /// `lora_alpha`, or the rank when `lora_alpha ≤ 0` (PEFT's `scaling`, not divided by r).
    public let scaling: Float
    /// PEFT's `ranknum`: the rank the layer was made with; not saved.
    public let rankNumber: Float
    /// Dropout on the adapter's input, a child of the layer (`lora_dropout.<name>`).
    public let dropout: Dropout

    init(
        down: Tensor, singularValues: Tensor, up: Tensor, scaling: Float, rankNumber: Float,
        dropout: Float, seed: UInt64
    ) {
        self.down = Parameter(down)
        self.singularValues = Parameter(singularValues)
        self.up = Parameter(up)
        self.scaling = scaling
        self.rankNumber = rankNumber
        self.dropout = Dropout(probability: dropout, seed: seed)
    }

    /// The current rank r.
    public var rank: Int { down.shape[0] }

    /// `scaling / (ranknum + 1e-5)`, the factor on `B·(A ⊙ E)`.
    public var factor: Float { scaling / (rankNumber + 1e-5) }

    /// `A ⊙ E`, `[r, in]`, differentiable in both.
    func scaledDown() -> Tensor { down.value * singularValues.value }

    /// `B·(A ⊙ E)·s` as an `[out, in]` matrix.
    func delta() -> Tensor {
        withoutGradients { matmul(up.value, scaledDown()) * factor }
    }

    /// `lora_A`, `lora_B`, `lora_E`: PEFT's `ParameterDict`s, saved without a `.weight`.
    public var tensors: [(key: String, parameter: Parameter)] {
        [("lora_A", down), ("lora_B", up), ("lora_E", singularValues)]
    }
}
