/// Skew-symmetric matrices from their packed strict upper triangles: how OFT stores its rotations.

/// Builds `[n, b, b]` skew-symmetric matrices `Q = U − Uᵀ` from `[n, b(b−1)/2]` packed triangles.
///
/// Row `k` of `packed` fills the strict upper triangle of matrix `k` in row-major order, `(0,1), (0,2),
/// …, (0,b−1), (1,2), …` (PyTorch's `triu_indices(b, b, 1)`); the lower triangle holds the negated
/// values and the diagonal is zero. The gradient of entry `(i, j)` of the packed row is
/// `g[i, j] − g[j, i]`.
public func skewSymmetricMatrices(fromUpperTriangles packed: Tensor, size: Int) -> Tensor {
    let packedCount = size * (size - 1) / 2
    precondition(
        packed.rank == 2 && packed.shape[1] == packedCount,
        "skewSymmetricMatrices: expected [n, \(packedCount)] for size \(size), got \(packed.shape)")
    let count = packed.shape[0]
    let output = Tensor.build([count, size, size]) { out in
        let source = packed.storage.pointer
        out.update(repeating: 0, count: count * size * size)
        for matrix in 0..<count {
            let row = source + matrix * packedCount
            let block = out + matrix * size * size
            var index = 0
            for i in 0..<size {
                for j in (i + 1)..<size {
                    block[i * size + j] = row[index]
                    block[j * size + i] = -row[index]
                    index += 1
                }
            }
        }
    }
    return .result(output, of: [packed]) { gradient in
        let packedGradient = Tensor.build(packed.shape) { out in
            let g = gradient.storage.pointer
            for matrix in 0..<count {
                let block = g + matrix * size * size
                let row = out + matrix * packedCount
                var index = 0
                for i in 0..<size {
                    for j in (i + 1)..<size {
                        row[index] = block[i * size + j] - block[j * size + i]
                        index += 1
                    }
                }
            }
        }
        return [packedGradient]
    }
}
