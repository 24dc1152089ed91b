/// Scales the last dimension by its reciprocal root mean square, as T5's layer norm does.
///
/// `y = x / sqrt(mean(x²) + eps) · weight`: no centring and no bias. One node with a fused backward:
/// `dx = r · ĝ − x · r³ · mean(ĝ ⊙ x)` where `r = 1/sqrt(mean(x²) + eps)` and `ĝ = dy ⊙ weight`.
public func rmsNorm(_ x: Tensor, weight: Tensor?, epsilon: Float = 1e-6) -> Tensor {
    let region = OperationProfiler.enter(.normalization)
    defer { region.end() }
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    if let weight {
        precondition(
            weight.shape == [width], "rmsNorm: weight \(weight.shape) for input \(x.shape)")
    }
    var inverseRoots = [Float](repeating: 0, count: rows)
    let source = x.storage.pointer
    let output = Tensor.build(x.shape) { out in
        for row in 0..<rows {
            let input = source + row * width
            var squares: Float = 0
            for j in 0..<width { squares += input[j] * input[j] }
            let inverse = 1 / (squares / Float(width) + epsilon).squareRoot()
            inverseRoots[row] = inverse
            let y = out + row * width
            if let weight {
                let w = weight.storage.pointer
                for j in 0..<width { y[j] = input[j] * inverse * w[j] }
            } else {
                for j in 0..<width { y[j] = input[j] * inverse }
            }
        }
    }
    return .result(output, of: [x, weight]) { g in
        let dy = g.storage.pointer
        let w = weight?.storage.pointer
        var dx: Tensor?
        var dweight: Tensor?
        if x.requiresGradient {
            dx = Tensor.build(x.shape) { dxp in
                for row in 0..<rows {
                    let input = source + row * width
                    let inverse = inverseRoots[row]
                    var meanGX: Float = 0
                    for j in 0..<width { meanGX += dy[row * width + j] * (w?[j] ?? 1) * input[j] }
                    meanGX /= Float(width)
                    let cubed = inverse * inverse * inverse
                    for j in 0..<width {
                        dxp[row * width + j] =
                            inverse * dy[row * width + j] * (w?[j] ?? 1) - input[j] * cubed * meanGX
                    }
                }
            }
        }
        if weight?.requiresGradient == true {
            dweight = Tensor.build([width]) { dw in
                dw.initialize(repeating: 0, count: width)
                for row in 0..<rows {
                    let input = source + row * width
                    for j in 0..<width {
                        dw[j] += dy[row * width + j] * input[j] * inverseRoots[row]
                    }
                }
            }
        }
        return [dx, dweight]
    }
}
