/// The product of rows with a block-diagonal matrix, one GEMM per block, the matrix never built.

/// Returns `x·blockdiag(R₀, …, R_{k−1})` (or with every block transposed, `transposingBlocks`).
///
/// `x` is `[..., k·b]` and `blocks` is `[k, b, b]`, or `[1, b, b]` for one block repeated `k` times
/// (OFT's `block_share`). Slice `i` of the last dimension becomes `x_i·R_i`:
/// `y[..., i·b + c] = Σ_j x[..., i·b + j]·R_i[j, c]`. The result is shaped like `x`. Each block is one
/// strided GEMM over every row at once; backward computes `dX` and `dR` only where they are needed,
/// summing a shared block's gradient over the slices.
public func blockDiagonalMatmul(_ x: Tensor, blocks: Tensor, transposingBlocks: Bool = false)
    -> Tensor
{
    precondition(
        blocks.rank == 3 && blocks.shape[1] == blocks.shape[2] && blocks.shape[1] > 0,
        "blockDiagonalMatmul: blocks must be [k, b, b], got \(blocks.shape)")
    let size = blocks.shape[1]
    let width = x.shape.last ?? 0
    precondition(
        x.rank >= 1 && width % size == 0,
        "blockDiagonalMatmul: input \(x.shape) does not split into blocks of \(size)")
    let count = width / size
    let isShared = blocks.shape[0] == 1
    precondition(
        isShared || blocks.shape[0] == count,
        "blockDiagonalMatmul: \(blocks.shape[0]) blocks for an input of \(count) blocks of \(size)")
    let rows = width == 0 ? 0 : x.count / width
    func block(_ index: Int) -> Int { (isShared ? 0 : index) * size * size }
    let output = Tensor.build(x.shape) { y in
        for index in 0..<count {
            BLAS.gemm(
                transposeA: false, transposeB: transposingBlocks, m: rows, n: size, k: size,
                a: x.storage.pointer + index * size, lda: width,
                b: blocks.storage.pointer + block(index), ldb: size, c: y + index * size,
                ldc: width)
        }
    }
    return .result(output, of: [x, blocks]) { gradient in
        let dy = gradient.storage.pointer
        var inputGradient: Tensor?
        var blockGradient: Tensor?
        if x.requiresGradient {
            // dX_i = dY_i·op(R_i)ᵀ.
            inputGradient = Tensor.build(x.shape) { dx in
                for index in 0..<count {
                    BLAS.gemm(
                        transposeA: false, transposeB: !transposingBlocks, m: rows, n: size,
                        k: size, a: dy + index * size, lda: width,
                        b: blocks.storage.pointer + block(index), ldb: size,
                        c: dx + index * size, ldc: width)
                }
            }
        }
        if blocks.requiresGradient {
            // dR_i = X_iᵀ·dY_i, or its transpose dY_iᵀ·X_i for transposed blocks.
            blockGradient = Tensor.build(blocks.shape) { dr in
                if count == 0 { dr.update(repeating: 0, count: blocks.count) }
                for index in 0..<count {
                    let (left, right) =
                        transposingBlocks
                        ? (dy + index * size, x.storage.pointer + index * size)
                        : (x.storage.pointer + index * size, dy + index * size)
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: size, n: size, k: rows,
                        a: left, lda: width, b: right, ldb: width,
                        beta: isShared && index > 0 ? 1 : 0, c: dr + block(index), ldc: size)
                }
            }
        }
        return [inputGradient, blockGradient]
    }
}
