/// NumPy broadcasting: shapes, strides, and the strided loops behind every broadcasting op.

/// The shape two operands broadcast to, aligning dimensions from the right.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let rank = max(a.count, b.count)
    return (0..<rank).map { index in
        let x = index < rank - a.count ? 1 : a[index - (rank - a.count)]
        let y = index < rank - b.count ? 1 : b[index - (rank - b.count)]
        precondition(x == y || x == 1 || y == 1, "\(op): shapes \(a) and \(b) do not broadcast")
        return x == 1 ? y : x
    }
}

/// Row-major strides of `shape` seen inside `target`: 0 along every broadcast dimension.
func broadcastStrides(of shape: [Int], in target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var running = 1
    for index in shape.indices.reversed() {
        let targetIndex = index + target.count - shape.count
        strides[targetIndex] = shape[index] == 1 ? 0 : running
        running *= shape[index]
    }
    return strides
}

/// A loop nest over `shape` with one stride per operand, adjacent dimensions merged where possible.
struct StridedLoop {
    var shape: [Int]
    var strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        // Merge dimension i into i+1 when every operand steps through both as one run.
        var mergedShape: [Int] = []
        var mergedStrides = [[Int]](repeating: [], count: strides.count)
        for index in shape.indices where shape[index] != 1 {
            if let last = mergedShape.last,
                strides.indices.allSatisfy({
                    strides[$0][index] * shape[index] == mergedStrides[$0].last!
                })
            {
                mergedShape[mergedShape.count - 1] = last * shape[index]
                for operand in strides.indices {
                    mergedStrides[operand][mergedStrides[operand].count - 1] =
                        strides[operand][index]
                }
            } else {
                mergedShape.append(shape[index])
                for operand in strides.indices {
                    mergedStrides[operand].append(strides[operand][index])
                }
            }
        }
        if mergedShape.isEmpty {
            mergedShape = [1]
            mergedStrides = strides.map { _ in [0] }
        }
        self.shape = mergedShape
        self.strides = mergedStrides
    }

    /// Calls `body(offsets, innerCount, innerStrides)` once per run of the innermost dimension.
    @inline(__always)
    func forEachRun(_ body: ([Int], Int, [Int]) -> Void) {
        let innerCount = shape[shape.count - 1]
        let innerStrides = strides.map { $0[$0.count - 1] }
        let outerRank = shape.count - 1
        var counter = [Int](repeating: 0, count: outerRank)
        var offsets = [Int](repeating: 0, count: strides.count)
        let outerCount = shape.dropLast().reduce(1, *)
        for _ in 0..<outerCount {
            body(offsets, innerCount, innerStrides)
            var dimension = outerRank - 1
            while dimension >= 0 {
                counter[dimension] += 1
                for operand in offsets.indices { offsets[operand] += strides[operand][dimension] }
                if counter[dimension] < shape[dimension] { break }
                for operand in offsets.indices {
                    offsets[operand] -= strides[operand][dimension] * shape[dimension]
                }
                counter[dimension] = 0
                dimension -= 1
            }
        }
    }
}

/// Applies `op` elementwise to two broadcasting tensors.
@inline(__always)
func broadcastBinary(_ a: Tensor, _ b: Tensor, op name: String, _ op: (Float, Float) -> Float)
    -> Tensor
{
    let x = a.storage.pointer
    let y = b.storage.pointer
    if a.shape == b.shape {
        return Tensor.build(a.shape) { out in
            for index in 0..<a.count { out[index] = op(x[index], y[index]) }
        }
    }
    let shape = broadcastShape(a.shape, b.shape, op: name)
    let loop = StridedLoop(
        shape: shape,
        strides: [
            broadcastStrides(of: shape, in: shape), broadcastStrides(of: a.shape, in: shape),
            broadcastStrides(of: b.shape, in: shape),
        ])
    return Tensor.build(shape) { out in
        loop.forEachRun { offsets, count, strides in
            let o = out + offsets[0]
            let xs = x + offsets[1]
            let ys = y + offsets[2]
            switch (strides[1], strides[2]) {
            case (1, 1): for index in 0..<count { o[index] = op(xs[index], ys[index]) }
            case (1, 0):
                let v = ys[0]
                for index in 0..<count { o[index] = op(xs[index], v) }
            case (0, 1):
                let v = xs[0]
                for index in 0..<count { o[index] = op(v, ys[index]) }
            default:
                for index in 0..<count {
                    o[index] = op(xs[index * strides[1]], ys[index * strides[2]])
                }
            }
        }
    }
}

extension Tensor {
    /// Sums a broadcast gradient back down to `shape`, the reverse of broadcasting to `self.shape`.
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let loop = StridedLoop(
            shape: shape,
            strides: [
                broadcastStrides(of: target, in: shape), broadcastStrides(of: shape, in: shape),
            ])
        let source = storage.pointer
        return Tensor.build(target) { out in
            out.initialize(repeating: 0, count: target.reduce(1, *))
            loop.forEachRun { offsets, count, strides in
                let o = out + offsets[0]
                let s = source + offsets[1]
                if strides[0] == 0 {
                    var total: Float = 0
                    for index in 0..<count { total += s[index * strides[1]] }
                    o[0] += total
                } else {
                    for index in 0..<count { o[index * strides[0]] += s[index * strides[1]] }
                }
            }
        }
    }

    /// This tensor broadcast to `target`, materialised.
    func broadcastMaterialized(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(
            broadcastShape(shape, target, op: "expand") == target,
            "expand: \(shape) does not broadcast to \(target)")
        let loop = StridedLoop(
            shape: target,
            strides: [
                broadcastStrides(of: target, in: target), broadcastStrides(of: shape, in: target),
            ])
        let source = storage.pointer
        return Tensor.build(target) { out in
            loop.forEachRun { offsets, count, strides in
                let o = out + offsets[0]
                let s = source + offsets[1]
                for index in 0..<count { o[index] = s[index * strides[1]] }
            }
        }
    }
}
