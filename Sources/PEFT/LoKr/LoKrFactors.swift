import PEFTNN
import PEFTTensor

/// One LoKr adapter inside a layer: `ΔW = (alpha / r)·(w1 ⊗ w2)` (Yeh et al., 2023), each factor
/// stored whole (`lokr_w1`, `lokr_w2`) or as a rank-r product (`lokr_w1_a·lokr_w1_b`,
/// `lokr_w2_a·lokr_w2_b`), as PEFT chooses from the layer's shape.
public final class LoKrFactors: LyCORISAdapter {
    /// One Kronecker factor: a whole matrix, or the product of an `[m, r]` and an `[r, n]` matrix.
    public enum Factor {
        /// The matrix itself.
        case full(Parameter)
        /// `up·down`.
        case product(up: Parameter, down: Parameter)

        /// The factor's value, recorded for autograd when it trains.
        var value: Tensor {
            switch self {
            case .full(let weight): weight.value
            case .product(let up, let down): matmul(up.value, down.value)
            }
        }
    }

    /// The left factor, `[out_l, in_m]`.
    public let left: Factor
    /// The right factor, `[out_k, in_n]`.
    public let right: Factor
    /// `alpha / r`, applied whether or not the factors are decomposed (as PEFT applies it).
    public let scaling: Float
    /// Rank dropout over the update's output rows.
    public let rankDropout: Dropout
    /// Module dropout, one draw per forward pass.
    public let moduleDropout: Dropout
    /// `rank_dropout_scale`.
    public let scalesRankDropout: Bool

    /// Factors for a `[out, in]` layer, shaped and drawn as PEFT's `LoKrLayer.update_layer` does.
    init(target: LyCORISTarget, configuration: LoKrConfiguration, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let rank = target.rank
        let factor = configuration.decompositionFactor
        let (outLeft, outRight) = Self.factorization(target.outputs, factor: factor)
        let (inLeft, inRight) = Self.factorization(target.inputs, factor: factor)
        let initialization = configuration.initialization
        func kaiming(_ shape: [Int]) -> Parameter {
            Parameter(Self.kaimingUniform(shape, using: &generator))
        }
        // PEFT's thresholds compare r with half the factor's larger side, in real numbers.
        if configuration.decomposesBoth && Double(rank) < Double(max(outLeft, inLeft)) / 2 {
            let up =
                initialization == .standard
                ? Parameter(Tensor.zeros([outLeft, rank])) : kaiming([outLeft, rank])
            left = .product(up: up, down: kaiming([rank, inLeft]))
        } else {
            left = .full(
                initialization == .standard
                    ? Parameter(Tensor.zeros([outLeft, inLeft])) : kaiming([outLeft, inLeft]))
        }
        if Double(rank) < Double(max(outRight, inRight)) / 2 {
            let up = kaiming([outRight, rank])
            let down =
                initialization == .lycoris
                ? Parameter(Tensor.zeros([rank, inRight])) : kaiming([rank, inRight])
            right = .product(up: up, down: down)
        } else {
            right = .full(
                initialization == .lycoris
                    ? Parameter(Tensor.zeros([outRight, inRight])) : kaiming([outRight, inRight]))
        }
        scaling = target.alpha / Float(rank)
        rankDropout = Dropout(probability: configuration.rankDropout, seed: seed ^ 0x5244)
        moduleDropout = Dropout(probability: configuration.moduleDropout, seed: seed ^ 0x4D44)
        scalesRankDropout = configuration.scalesRankDropout
    }

    /// `lokr_w1` or `lokr_w1_a` and `lokr_w1_b`, then `lokr_w2` or `lokr_w2_a` and `lokr_w2_b`.
    public var tensors: [(key: String, parameter: Parameter)] {
        func keyed(_ factor: Factor, _ name: String) -> [(key: String, parameter: Parameter)] {
            switch factor {
            case .full(let weight): [(name, weight)]
            case .product(let up, let down): [("\(name)_a", up), ("\(name)_b", down)]
            }
        }
        return keyed(left, "lokr_w1") + keyed(right, "lokr_w2")
    }

    /// `(alpha / r)·(w1 ⊗ w2)`, `[out, in]`.
    public func delta() -> Tensor {
        kroneckerProduct(left.value, right.value, scale: scaling)
    }

    /// PEFT's (and LyCORIS's) `factorization(dimension, factor)`: two numbers whose product is
    /// `dimension`.
    ///
    /// A positive `factor` that divides `dimension` gives `(factor, dimension / factor)` as is (so
    /// possibly descending). Otherwise (−1 meaning `dimension`) the smaller number starts at 1 and
    /// moves to each next divisor while it stays below its cofactor, stopping before a divisor
    /// above `factor`; the pair is returned ascending. 256 gives
    /// (16, 16), 128 (8, 16), 127 (1, 127), 768 (24, 32), and with factor 4, 128 gives (4, 32).
    public static func factorization(_ dimension: Int, factor: Int = -1) -> (Int, Int) {
        if factor > 0 && dimension % factor == 0 { return (factor, dimension / factor) }
        let limit = factor == -1 ? dimension : factor
        var (small, large) = (1, dimension)
        // PEFT compares every pair's sum with the first pair's, 1 + dimension.
        let firstSum = 1 + dimension
        while small < large {
            var next = small + 1
            while dimension % next != 0 { next += 1 }
            let cofactor = dimension / next
            if next + cofactor > firstSum || next > limit { break }
            (small, large) = (next, cofactor)
        }
        return small <= large ? (small, large) : (large, small)
    }
}
