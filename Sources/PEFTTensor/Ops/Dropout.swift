/// Zeroes each element with probability `probability` while training and scales the survivors by
/// `1 / (1 − probability)`, so the expected value is unchanged; the identity when not training.
public func dropout(
    _ x: Tensor, probability: Float, training: Bool, using generator: inout RandomGenerator
) -> Tensor {
    precondition(
        probability >= 0 && probability < 1, "dropout: probability \(probability) not in [0, 1)")
    guard training, probability > 0 else { return x }
    let scale = 1 / (1 - probability)
    let mask = Tensor.build(x.shape) { m in
        for index in 0..<x.count { m[index] = generator.nextUniform() < probability ? 0 : scale }
    }
    return x * mask
}
