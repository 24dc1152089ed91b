import PEFTNN
import PEFTTensor

/// One LoHa adapter inside a layer: two low-rank pairs whose products are multiplied element-wise,
/// `ΔW = (alpha / r)·(hada_w1_a·hada_w1_b) ⊙ (hada_w2_a·hada_w2_b)` (Hyeon-Woo et al., 2022, FedPara).
public final class LoHaFactors: LyCORISAdapter {
    /// `hada_w1_a`, `[out, r]`.
    public let firstUp: Parameter
    /// `hada_w1_b`, `[r, in]`.
    public let firstDown: Parameter
    /// `hada_w2_a`, `[out, r]`.
    public let secondUp: Parameter
    /// `hada_w2_b`, `[r, in]`: zero in a fresh adapter.
    public let secondDown: Parameter
    /// `alpha / r`.
    public let scaling: Float
    /// Rank dropout over the update's output rows.
    public let rankDropout: Dropout
    /// Module dropout, one draw per forward pass.
    public let moduleDropout: Dropout

    /// Factors for a `[out, in]` layer, drawn as PEFT draws them: Kaiming-uniform, with `hada_w2_b`
    /// zero when `initializesWeights`.
    init(
        target: LyCORISTarget, configuration: LoHaConfiguration, seed: UInt64
    ) {
        var generator = RandomGenerator(seed: seed)
        let (rank, inputs, outputs) = (target.rank, target.inputs, target.outputs)
        firstUp = Parameter(Self.kaimingUniform([outputs, rank], using: &generator))
        firstDown = Parameter(Self.kaimingUniform([rank, inputs], using: &generator))
        secondUp = Parameter(Self.kaimingUniform([outputs, rank], using: &generator))
        secondDown = Parameter(
            configuration.initializesWeights
                ? Tensor.zeros([rank, inputs])
                : Self.kaimingUniform([rank, inputs], using: &generator))
        scaling = target.alpha / Float(rank)
        rankDropout = Dropout(probability: configuration.rankDropout, seed: seed ^ 0x5244)
        moduleDropout = Dropout(probability: configuration.moduleDropout, seed: seed ^ 0x4D44)
    }

    /// `hada_w1_a`, `hada_w1_b`, `hada_w2_a`, `hada_w2_b`.
    public var tensors: [(key: String, parameter: Parameter)] {
        [
            ("hada_w1_a", firstUp), ("hada_w1_b", firstDown), ("hada_w2_a", secondUp),
            ("hada_w2_b", secondDown),
        ]
    }

    /// `(alpha / r)·(w1_a·w1_b) ⊙ (w2_a·w2_b)`, `[out, in]`.
    public func delta() -> Tensor {
        lowRankHadamardProduct(
            firstUp.value, firstDown.value, secondUp.value, secondDown.value, scale: scaling)
    }

    /// LoHa always rescales the kept rows, as PEFT does.
    public var scalesRankDropout: Bool { true }
}
