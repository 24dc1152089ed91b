#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Softmax over the last axis, each row shifted by its maximum for stability.
///
/// Backward: `dx = y ⊙ (dy − Σ dy ⊙ y)` per row.
public func softmax(_ x: Tensor) -> Tensor {
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    let source = x.storage.pointer
    let output = Tensor.build(x.shape) { out in
        for row in 0..<rows {
            let input = source + row * width
            let y = out + row * width
            var maximum = -Float.infinity
            for j in 0..<width { maximum = max(maximum, input[j]) }
            var total: Float = 0
            for j in 0..<width {
                y[j] = expf(input[j] - maximum)
                total += y[j]
            }
            let scale = 1 / total
            for j in 0..<width { y[j] *= scale }
        }
    }
    return .result(output, of: [x]) { g in
        let dy = g.storage.pointer
        let y = output.storage.pointer
        return [
            Tensor.build(x.shape) { dx in
                for row in 0..<rows {
                    let base = row * width
                    var dot: Float = 0
                    for j in 0..<width { dot += dy[base + j] * y[base + j] }
                    for j in 0..<width { dx[base + j] = y[base + j] * (dy[base + j] - dot) }
                }
            }
        ]
    }
}

/// `log(softmax(x))` over the last axis, computed without forming the softmax's logarithm.
///
/// Backward: `dx = dy − softmax(x) ⊙ Σ dy` per row.
public func logSoftmax(_ x: Tensor) -> Tensor {
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    let source = x.storage.pointer
    let output = Tensor.build(x.shape) { out in
        for row in 0..<rows {
            let input = source + row * width
            var maximum = -Float.infinity
            for j in 0..<width { maximum = max(maximum, input[j]) }
            var total: Float = 0
            for j in 0..<width { total += expf(input[j] - maximum) }
            // Subtracting the maximum first keeps the digits a large shared offset would swallow.
            let logTotal = logf(total)
            for j in 0..<width { out[row * width + j] = (input[j] - maximum) - logTotal }
        }
    }
    return .result(output, of: [x]) { g in
        let dy = g.storage.pointer
        let y = output.storage.pointer
        return [
            Tensor.build(x.shape) { dx in
                for row in 0..<rows {
                    let base = row * width
                    var total: Float = 0
                    for j in 0..<width { total += dy[base + j] }
                    for j in 0..<width { dx[base + j] = dy[base + j] - expf(y[base + j]) * total }
                }
            }
        ]
    }
}
