import PEFTNN
import PEFTTensor

/// Rotates the input of a frozen linear layer by a block-diagonal orthogonal matrix (Qiu et al.,
/// 2023), as PEFT 0.21 does: `y = base(x·blockdiag(R₀, …, R_{k−1}))`.
///
/// Rotating the input is rotating the weight, `W·R_bdᵀ`, which is what a merge writes; the base
/// bias is untouched. The base (an `nn.Linear`) stays under `base_layer`; each adapter's parameters
/// are `oft_R.<name>.weight` in the model and `oft_R.weight` in PEFT's file. Several active adapters
/// rotate in turn.
public final class OFTLinear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name.
    public var adapters = AdapterSet<OFTRotation>()

    /// Wraps `base`.
    public init(wrapping base: Linear) {
        super.init()
        self.base = base
    }

    /// Every adapter's parameters keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)` after every active, unmerged adapter's rotation.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var input = x
        for (_, rotation) in adapters.running {
            input = blockDiagonalMatmul(input, blocks: rotation.rotations())
        }
        return base(input)
    }

    /// The wrapped `nn.Linear`'s weight (`[out, in]`) and bias.
    var baseLinear: Linear {
        guard let linear = base as? Linear else {
            preconditionFailure("OFTLinear: unsupported base layer \(type(of: base))")
        }
        return linear
    }

    /// `W ← W·R_bdᵀ`.
    public func mergeAdapter(_ rotation: OFTRotation, safe: Bool) throws {
        let weight = baseLinear.$weight
        let merged = withoutGradients {
            blockDiagonalMatmul(weight.value, blocks: rotation.rotations(), transposingBlocks: true)
        }
        if safe { try checkFinite(merged, adapter: "OFT", layer: self) }
        weight.assign(merged)
    }

    /// `W ← W·(R_bd⁻¹)ᵀ`, the inverse blocks solved for in double precision.
    public func unmergeAdapter(_ rotation: OFTRotation) throws {
        let weight = baseLinear.$weight
        weight.assign(
            withoutGradients {
                let blocks = rotation.rotations()
                let identities = OFTRotation.identity(rotation.blockSize).expanded(to: blocks.shape)
                return blockDiagonalMatmul(
                    weight.value, blocks: linearSolve(blocks, identities), transposingBlocks: true)
            })
    }
}
