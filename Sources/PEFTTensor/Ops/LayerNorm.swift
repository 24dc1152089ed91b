/// Normalises the last dimension to zero mean and unit variance, then scales and shifts it.
///
/// `y = (x − mean) / sqrt(var + eps) · weight + bias`, with the biased variance as PyTorch uses.
/// `weight` and `bias` are `[C]` and optional. One node with a fused backward:
/// `dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))` where `ĝ = dy ⊙ weight`.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) -> Tensor
{
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    if let weight {
        precondition(
            weight.shape == [width], "layerNorm: weight \(weight.shape) for input \(x.shape)")
    }
    if let bias {
        precondition(bias.shape == [width], "layerNorm: bias \(bias.shape) for input \(x.shape)")
    }
    var means = [Float](repeating: 0, count: rows)
    var inverseDeviations = [Float](repeating: 0, count: rows)
    let source = x.storage.pointer
    let output = Tensor.build(x.shape) { out in
        for row in 0..<rows {
            let input = source + row * width
            var total: Float = 0
            for j in 0..<width { total += input[j] }
            let mean = total / Float(width)
            var squares: Float = 0
            for j in 0..<width {
                let centred = input[j] - mean
                squares += centred * centred
            }
            let inverse = 1 / (squares / Float(width) + epsilon).squareRoot()
            means[row] = mean
            inverseDeviations[row] = inverse
            let y = out + row * width
            for j in 0..<width { y[j] = (input[j] - mean) * inverse }
            if let weight {
                let w = weight.storage.pointer
                for j in 0..<width { y[j] *= w[j] }
            }
            if let bias {
                let b = bias.storage.pointer
                for j in 0..<width { y[j] += b[j] }
            }
        }
    }
    return .result(output, of: [x, weight, bias]) { g in
        let dy = g.storage.pointer
        let w = weight?.storage.pointer
        var dx: Tensor?
        var dweight: Tensor?
        if x.requiresGradient {
            dx = Tensor.build(x.shape) { dxp in
                for row in 0..<rows {
                    let input = source + row * width
                    let gradientRow = dy + row * width
                    let (mean, inverse) = (means[row], inverseDeviations[row])
                    var meanG: Float = 0
                    var meanGX: Float = 0
                    for j in 0..<width {
                        let gHat = gradientRow[j] * (w?[j] ?? 1)
                        meanG += gHat
                        meanGX += gHat * (input[j] - mean) * inverse
                    }
                    meanG /= Float(width)
                    meanGX /= Float(width)
                    for j in 0..<width {
                        let gHat = gradientRow[j] * (w?[j] ?? 1)
                        let xHat = (input[j] - mean) * inverse
                        dxp[row * width + j] = inverse * (gHat - meanG - xHat * meanGX)
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
                        dw[j] +=
                            dy[row * width + j] * (input[j] - means[row]) * inverseDeviations[row]
                    }
                }
            }
        }
        let dbias =
            bias?.requiresGradient == true
            ? Tensor.build([width]) { sumRows(dy, rows: rows, columns: width, into: $0) } : nil
        return [dx, dweight, dbias]
    }
}
