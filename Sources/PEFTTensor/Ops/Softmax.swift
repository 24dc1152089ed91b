#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Softmax over the last axis, each row shifted by its maximum for stability.
///
/// Backward: `dx = y ⊙ (dy − Σ dy ⊙ y)` per row.
public func softmax(_ x: Tensor) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    return rowwise(x) { input, y, width in
        softmaxRow(input, y, count: width)
    } backward: { dy, y, dx, width in
        let dot = vectorDot(dy, y, count: width)
        for j in 0..<width { dx[j] = y[j] * (dy[j] - dot) }
    }
}

/// Writes `softmax(input)` for one row: the maximum, then `e^(x − max)` and its sum, then a scale.
@inline(__always)
func softmaxRow(
    _ input: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
) {
    let maximum = vectorMaximum(input, count: count)
    var total = FloatVector()
    forEachVector(count: count) { offset, lanes in
        // Padding with −∞ makes the tail's spare lanes contribute e^−∞ = 0 to the sum.
        let e = vectorExp(load(input, offset, lanes: lanes, padding: -.infinity) - maximum)
        total += e
        store(e, y, offset, lanes: lanes)
    }
    let scale = 1 / total.sum()
    for j in 0..<count { y[j] *= scale }
}

/// `log(softmax(x))` over the last axis, computed without forming the softmax's logarithm.
///
/// Backward: `dx = dy − softmax(x) ⊙ Σ dy` per row.
public func logSoftmax(_ x: Tensor) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    return rowwise(x) { input, y, width in
        let maximum = vectorMaximum(input, count: width)
        var total = FloatVector()
        forEachVector(count: width) { offset, lanes in
            total += vectorExp(load(input, offset, lanes: lanes, padding: -.infinity) - maximum)
        }
        // Subtracting the maximum first keeps the digits a large shared offset would swallow.
        let logTotal = logf(total.sum())
        for j in 0..<width { y[j] = (input[j] - maximum) - logTotal }
    } backward: { dy, y, dx, width in
        let total = vectorSum(dy, count: width)
        forEachVector(count: width) { j, lanes in
            let probability = vectorExp(load(y, j, lanes: lanes, padding: 0))
            let gradient = load(dy, j, lanes: lanes, padding: 0) - probability * total
            store(gradient, dx, j, lanes: lanes)
        }
    }
}

/// A differentiable op that maps each row of the last axis on its own, forward and backward, in blocks
/// of rows on every core. `forward(input, y, width)` writes one output row; `backward(dy, y, dx,
/// width)` one input-gradient row from the output gradient and the output.
@inline(__always)
private func rowwise(
    _ x: Tensor,
    forward: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
    backward:
        @escaping (
            UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int
        ) -> Void
) -> Tensor {
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    let rowsPerBlock = ParallelLoops.rowsPerBlock(elementsPerRow: width)
    let source = UnsafePointer(x.storage.pointer)
    let output = Tensor.build(x.shape) { out in
        ParallelLoops.forEachBlock(rows: rows, rowsPerBlock: rowsPerBlock, elementsPerRow: width) {
            _, block in
            for row in block { forward(source + row * width, out + row * width, width) }
        }
    }
    return .result(output, of: [x]) { g in
        let dy = UnsafePointer(g.storage.pointer)
        let y = UnsafePointer(output.storage.pointer)
        return [
            Tensor.build(x.shape) { dx in
                ParallelLoops.forEachBlock(
                    rows: rows, rowsPerBlock: rowsPerBlock, elementsPerRow: width
                ) { _, block in
                    for row in block {
                        let base = row * width
                        backward(dy + base, y + base, dx + base, width)
                    }
                }
            }
        ]
    }
}
