/// Matrix products over the last two dimensions, with transposes expressed as BLAS flags.

/// Returns `op(a)·op(b)` over the last two dimensions, where `op` transposes when asked.
///
/// `a` is `[..., M, K]` (`[..., K, M]` with `transposingLeft`) and `b` is `[..., K, N]`
/// (`[..., N, K]` with `transposingRight`). The leading (batch) dimensions of the two must be equal,
/// or one of the two must be a plain matrix, which is then shared by every batch. The result is
/// `[batch..., M, N]`. No operand is ever copied to transpose it: the flags and leading dimensions go
/// straight to `sgemm`, and a shared right-hand matrix turns the whole batch into one GEMM.
public func matmul(
    _ a: Tensor, _ b: Tensor, transposingLeft: Bool = false, transposingRight: Bool = false
) -> Tensor {
    let region = OperationProfiler.enter(.gemm)
    defer { region.end() }
    let output = MatrixProduct.compute(
        a, transposingLeft, b, transposingRight, summingBatches: false)
    return .result(output, of: [a, b]) { gradient in
        let batched = a.rank > 2 || b.rank > 2
        var gradientA: Tensor?
        var gradientB: Tensor?
        if a.requiresGradient {
            let sum = batched && a.rank == 2
            gradientA =
                transposingLeft
                ? MatrixProduct.compute(b, transposingRight, gradient, true, summingBatches: sum)
                : MatrixProduct.compute(gradient, false, b, !transposingRight, summingBatches: sum)
        }
        if b.requiresGradient {
            let sum = batched && b.rank == 2
            gradientB =
                transposingRight
                ? MatrixProduct.compute(gradient, true, a, transposingLeft, summingBatches: sum)
                : MatrixProduct.compute(a, !transposingLeft, gradient, false, summingBatches: sum)
        }
        return [gradientA, gradientB]
    }
}

/// The GEMM dispatch behind ``matmul(_:_:transposingLeft:transposingRight:)`` and its backward.
enum MatrixProduct {
    /// `op(x)·op(y)` per batch, or its sum over the batch when `summingBatches` is set.
    static func compute(
        _ x: Tensor, _ transposeX: Bool, _ y: Tensor, _ transposeY: Bool, summingBatches: Bool
    ) -> Tensor {
        precondition(
            x.rank >= 2 && y.rank >= 2,
            "matmul: operands need at least 2 dimensions, got \(x.shape) and \(y.shape)")
        let batchX = Array(x.shape.dropLast(2))
        let batchY = Array(y.shape.dropLast(2))
        precondition(
            batchX == batchY || batchX.isEmpty || batchY.isEmpty,
            "matmul: batch dimensions \(batchX) and \(batchY) of \(x.shape) and \(y.shape) do not match"
        )
        let batchShape = batchX.isEmpty ? batchY : batchX
        let batchCount = batchShape.reduce(1, *)
        let (xRows, xColumns) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let (yRows, yColumns) = (y.shape[y.rank - 2], y.shape[y.rank - 1])
        let (m, k) = transposeX ? (xColumns, xRows) : (xRows, xColumns)
        let (yK, n) = transposeY ? (yColumns, yRows) : (yRows, yColumns)
        precondition(
            k == yK,
            "matmul: inner dimensions differ: \(x.shape)\(transposeX ? "ᵀ" : "") · \(y.shape)\(transposeY ? "ᵀ" : "")"
        )
        let outputShape = (summingBatches ? [] : batchShape) + [m, n]
        return Tensor.build(outputShape) { c in
            let a = x.storage.pointer
            let b = y.storage.pointer
            if !transposeX && batchY.isEmpty && !summingBatches {
                // A shared right matrix: the batch is just more rows of one product.
                BLAS.gemm(
                    transposeA: false, transposeB: transposeY, m: batchCount * m, n: n, k: k,
                    a: a, lda: xColumns, b: b, ldb: yColumns, c: c, ldc: n)
            } else if summingBatches && transposeX && !transposeY && batchX == batchY {
                // Σ_b x_bᵀ·y_b contracts over the batch and the rows at once: one GEMM.
                BLAS.gemm(
                    transposeA: true, transposeB: false, m: m, n: n, k: batchCount * k,
                    a: a, lda: xColumns, b: b, ldb: yColumns, c: c, ldc: n)
            } else {
                let strideX = batchX.isEmpty ? 0 : xRows * xColumns
                let strideY = batchY.isEmpty ? 0 : yRows * yColumns
                let strideC = summingBatches ? 0 : m * n
                for batch in 0..<batchCount {
                    BLAS.gemm(
                        transposeA: transposeX, transposeB: transposeY, m: m, n: n, k: k,
                        a: a + batch * strideX, lda: xColumns, b: b + batch * strideY,
                        ldb: yColumns,
                        beta: summingBatches && batch > 0 ? 1 : 0, c: c + batch * strideC, ldc: n)
                }
            }
        }
    }
}
