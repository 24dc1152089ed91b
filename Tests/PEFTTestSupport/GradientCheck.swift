import PEFTTensor
import Testing

/// Expects the autograd gradients of `function` at `inputs` to match central finite differences.
///
/// The output is projected onto fixed random weights, `L = Σ f(x) ⊙ R`, so every output element
/// contributes with a different weight and a transposed or misplaced gradient cannot cancel out. `L` is
/// summed in Double, which keeps the difference quotient's rounding error near `ε_f32·|L| / step`.
/// Each input element `x` passes when `|analytic − numeric| ≤ tolerance · (1 + |numeric|)`.
public func expectGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 2e-3, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation, of function: ([Tensor]) -> Tensor
) {
    let leaves = inputs.map { $0.requiringGradient() }
    let output = function(leaves)
    var generator = RandomGenerator(seed: seed)
    let projection = Tensor.uniform(output.shape, in: -1..<1, using: &generator)
    (output * projection).sum().backward()

    func projectedLoss(_ arguments: [Tensor]) -> Double {
        let values = withoutGradients { function(arguments) }
        precondition(values.shape == projection.shape, "gradient check: output shape changed")
        return zip(values.scalars, projection.scalars).reduce(0) {
            $0 + Double($1.0) * Double($1.1)
        }
    }

    for (inputIndex, leaf) in leaves.enumerated() {
        guard let analytic = leaf.gradient?.scalars else {
            Issue.record("input \(inputIndex) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        let base = inputs[inputIndex].scalars
        for element in base.indices {
            var arguments = inputs.map { $0.detached() }
            var plus = base
            plus[element] += step
            arguments[inputIndex] = Tensor(shape: inputs[inputIndex].shape, scalars: plus)
            let lossPlus = projectedLoss(arguments)
            var minus = base
            minus[element] -= step
            arguments[inputIndex] = Tensor(shape: inputs[inputIndex].shape, scalars: minus)
            let lossMinus = projectedLoss(arguments)
            let numeric = Float((lossPlus - lossMinus) / (2 * Double(step)))
            let difference = abs(analytic[element] - numeric)
            if !(difference <= tolerance * (1 + abs(numeric))) {
                Issue.record(
                    "input \(inputIndex) element \(element): analytic \(analytic[element]) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
                return
            }
        }
    }
}

/// A seeded random tensor for tests, uniform in `range`.
public func randomTensor(_ shape: [Int], seed: UInt64, in range: Range<Float> = -1..<1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, in: range, using: &generator)
}
