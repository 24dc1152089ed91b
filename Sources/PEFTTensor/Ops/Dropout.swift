/// Dropout: the mask and the op that multiplies by it.

/// A dropout mask of `shape`: each element is 0 with probability `probability`, else
/// `1 / (1 − probability)`, so multiplying by it keeps the expected value unchanged.
///
/// The elements are drawn in row-major order, one uniform number each, so a generator in a given state
/// always gives the same mask.
public func dropoutMask(
    _ shape: [Int], probability: Float, using generator: inout RandomGenerator
) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    precondition(
        probability >= 0 && probability < 1, "dropoutMask: probability \(probability) not in [0, 1)"
    )
    let scale = 1 / (1 - probability)
    let count = shape.reduce(1, *)
    return Tensor.build(shape) { m in
        for index in 0..<count { m[index] = generator.nextUniform() < probability ? 0 : scale }
    }
}

/// Zeroes each element with probability `probability` while training and scales the survivors by
/// `1 / (1 − probability)`, so the expected value is unchanged; the identity when not training.
public func dropout(
    _ x: Tensor, probability: Float, training: Bool, using generator: inout RandomGenerator
) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    precondition(
        probability >= 0 && probability < 1, "dropout: probability \(probability) not in [0, 1)")
    guard training, probability > 0 else { return x }
    return x * dropoutMask(x.shape, probability: probability, using: &generator)
}
