import PEFTNN
import PEFTTensor

/// One OFT adapter inside a layer: the packed skew-symmetric parameters of its orthogonal blocks
/// (`oft_R.weight`, `[stored blocks, b(b−1)/2]`) and how they become rotations.
///
/// Row `k` holds the strict upper triangle of block `k`'s skew-symmetric `Q` (PyTorch's
/// `triu_indices` order). The exact Cayley transform gives `R = (I − Q)(I + Q)⁻¹`; PEFT's default,
/// the Cayley–Neumann series with n terms, gives `I + 2Q + 2Q² + … + 2Q^{n−2} + Q^{n−1}` (n = 3 as n = 4),
/// which approximates `(I + Q)(I − Q)⁻¹`: the exact form with `Q` negated, so the two settings give
/// different rotations for the same weights, as in PEFT.
public final class OFTRotation: AdapterTensors {
    /// `oft_R.weight`: one row per block, or a single row with `block_share`.
    public let weight: Parameter
    /// The block size b.
    public let blockSize: Int
    /// The number of blocks on the diagonal, `in / b`.
    public let blockCount: Int
    /// COFT: clamp each block before use.
    public let constrained: Bool
    /// COFT's bound, before it is divided by `√(stored blocks)`.
    public let epsilon: Float
    /// Whether the series replaces the exact transform.
    public let usesCayleyNeumann: Bool
    /// The number of series terms.
    public let cayleyNeumannTerms: Int

    init(weight: Tensor, blockSize: Int, blockCount: Int, configuration: OFTConfiguration) {
        self.weight = Parameter(weight)
        self.blockSize = blockSize
        self.blockCount = blockCount
        constrained = configuration.constrained
        epsilon = configuration.epsilon
        usesCayleyNeumann = configuration.usesCayleyNeumann
        cayleyNeumannTerms = configuration.cayleyNeumannTerms
    }

    /// `oft_R.weight`.
    public var tensors: [(key: String, parameter: Parameter)] { [("oft_R.weight", weight)] }

    /// The stored blocks as rotations, `[stored, b, b]`; under COFT the parameters are first clamped
    /// in place, as PEFT clamps them at every forward pass and merge.
    func rotations() -> Tensor {
        if constrained { projectOntoBall() }
        let size = blockSize
        let q = skewSymmetricMatrices(fromUpperTriangles: weight.value, size: size)
        let identity = Self.identity(size)
        guard usesCayleyNeumann else {
            let identities = identity.expanded(to: q.shape)
            return linearSolve(identities + q, identities - q)
        }
        guard cayleyNeumannTerms > 1 else { return identity.expanded(to: q.shape) }
        var rotation = q * 2 + identity
        guard cayleyNeumannTerms > 2 else { return rotation }
        var power = matmul(q, q)
        rotation = rotation + power * 2
        for _ in 3..<max(3, cayleyNeumannTerms - 1) {
            power = matmul(power, q)
            rotation = rotation + power * 2
        }
        return rotation + matmul(power, q)
    }

    /// The `[size, size]` identity matrix.
    static func identity(_ size: Int) -> Tensor {
        var diagonal = [Float](repeating: 0, count: size * size)
        for i in 0..<size { diagonal[i * size + i] = 1 }
        return Tensor(shape: [size, size], scalars: diagonal)
    }

    /// COFT's projection: every block whose `‖Q‖_F` exceeds `eps / √(stored blocks)` is scaled back to
    /// that norm (a non-finite norm gives non-finite values, as in PEFT).
    private func projectOntoBall() {
        let (stored, width) = (weight.shape[0], weight.shape[1])
        let bound = epsilon / Float(stored).squareRoot()
        var values = weight.value.scalars
        var changed = false
        for block in 0..<stored {
            let row = block * width..<(block + 1) * width
            // Each packed entry appears twice in Q, once negated.
            let norm = (2 * values[row].reduce(0) { $0 + $1 * $1 }).squareRoot()
            guard !(norm <= bound) else { continue }
            for index in row { values[index] = bound * (values[index] / norm) }
            changed = true
        }
        if changed { weight.assign(Tensor(shape: weight.shape, scalars: values)) }
    }
}

/// How PEFT sizes a layer's blocks: from `r` or `oft_block_size`, moved to a divisor of the input
/// width when it does not divide it.
enum OFTBlockLayout {
    /// `(blocks, size)` for an input width of `inputs`.
    static func resolve(inputs: Int, blockCount: Int, blockSize: Int) -> (count: Int, size: Int) {
        if blockCount == 0 {
            let size =
                inputs % blockSize != 0 || blockSize > inputs
                ? nearestDivisor(of: inputs, to: blockSize) : blockSize
            return (inputs / size, size)
        }
        let count =
            inputs % blockCount != 0 || blockCount > inputs
            ? nearestDivisor(of: inputs, to: blockCount) : blockCount
        return (count, inputs / count)
    }

    /// The divisor of `inputs` nearest `value` (the lower one on a tie), or `inputs` when `value` is
    /// not smaller.
    static func nearestDivisor(of inputs: Int, to value: Int) -> Int {
        guard value < inputs else { return inputs }
        var higher = value
        while higher <= inputs && inputs % higher != 0 { higher += 1 }
        var lower = value
        while lower > 1 && inputs % lower != 0 { lower -= 1 }
        return value - lower <= higher - value ? lower : higher
    }
}
