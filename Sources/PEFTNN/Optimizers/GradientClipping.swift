import PEFTTensor

/// Scales the gradients of `parameters` in place so their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` does, and returns the norm before clipping.
///
/// The norm is taken over every gradient together, as if they were one vector; parameters
/// without a gradient are skipped. When `maxNorm / (norm + 1e-6)` is below 1 every gradient is
/// multiplied by it, so the direction is kept. A gradient buffer shared by several parameters is
/// scaled once.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    precondition(maxNorm >= 0, "clipGradientNorm: negative maxNorm \(maxNorm)")
    let gradients = parameters.compactMap(\.gradient)
    var sumOfSquares: Double = 0
    for gradient in gradients {
        var tensorSum: Double = 0
        for element in gradient.storage.buffer { tensorSum += Double(element) * Double(element) }
        sumOfSquares += tensorSum
    }
    let totalNorm = Float(sumOfSquares.squareRoot())
    let coefficient = maxNorm / (totalNorm + 1e-6)
    guard coefficient < 1 else { return totalNorm }
    var scaled: Set<ObjectIdentifier> = []
    for gradient in gradients where scaled.insert(ObjectIdentifier(gradient.storage)).inserted {
        let buffer = gradient.storage.mutableBuffer
        for index in buffer.indices { buffer[index] *= coefficient }
    }
    return totalNorm
}
