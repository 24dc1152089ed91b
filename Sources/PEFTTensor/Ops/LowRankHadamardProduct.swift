/// The Hadamard product of two low-rank matrices, fused into one node: LoHa's weight update.

/// Returns `s·(A₁·B₁) ⊙ (A₂·B₂)` for `A₁, A₂: [m, r₁], [m, r₂]` and `B₁, B₂: [r₁, n], [r₂, n]`.
///
/// Forward keeps the two `[m, n]` products for backward, where with `G = s·dY` the gradients are
/// `dA₁ = (G ⊙ P₂)·B₁ᵀ`, `dB₁ = A₁ᵀ·(G ⊙ P₂)` and likewise for the second pair with `P₁`, each
/// computed only when its factor trains.
public func lowRankHadamardProduct(
    _ firstUp: Tensor, _ firstDown: Tensor, _ secondUp: Tensor, _ secondDown: Tensor, scale: Float
) -> Tensor {
    precondition(
        firstUp.rank == 2 && firstDown.rank == 2 && secondUp.rank == 2 && secondDown.rank == 2,
        "lowRankHadamardProduct: factors must be matrices")
    let (rows, columns) = (firstUp.shape[0], firstDown.shape[1])
    let (firstRank, secondRank) = (firstUp.shape[1], secondUp.shape[1])
    precondition(
        firstDown.shape == [firstRank, columns] && secondUp.shape[0] == rows
            && secondDown.shape == [secondRank, columns],
        "lowRankHadamardProduct: \(firstUp.shape)·\(firstDown.shape) and \(secondUp.shape)·\(secondDown.shape) do not fit"
    )
    func product(_ up: Tensor, _ down: Tensor, rank: Int) -> Tensor {
        Tensor.build([rows, columns]) { c in
            BLAS.gemm(
                transposeA: false, transposeB: false, m: rows, n: columns, k: rank,
                a: up.storage.pointer, lda: rank, b: down.storage.pointer, ldb: columns, c: c,
                ldc: columns)
        }
    }
    let first = product(firstUp, firstDown, rank: firstRank)
    let second = product(secondUp, secondDown, rank: secondRank)
    let count = rows * columns
    let output = Tensor.build([rows, columns]) { out in
        let (p, q) = (first.storage.pointer, second.storage.pointer)
        for index in 0..<count { out[index] = scale * p[index] * q[index] }
    }
    return .result(output, of: [firstUp, firstDown, secondUp, secondDown]) { gradient in
        // The gradient of one pair: T = s·dY ⊙ (the other pair's product), dA = T·Bᵀ, dB = Aᵀ·T.
        func pairGradients(_ up: Tensor, _ down: Tensor, rank: Int, other: Tensor) -> (
            Tensor?, Tensor?
        ) {
            guard up.requiresGradient || down.requiresGradient else { return (nil, nil) }
            let weighted = Tensor.build([rows, columns]) { t in
                let (g, o) = (gradient.storage.pointer, other.storage.pointer)
                for index in 0..<count { t[index] = scale * g[index] * o[index] }
            }
            let upGradient =
                up.requiresGradient
                ? Tensor.build([rows, rank]) { da in
                    BLAS.gemm(
                        transposeA: false, transposeB: true, m: rows, n: rank, k: columns,
                        a: weighted.storage.pointer, lda: columns, b: down.storage.pointer,
                        ldb: columns, c: da, ldc: rank)
                } : nil
            let downGradient =
                down.requiresGradient
                ? Tensor.build([rank, columns]) { db in
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: rank, n: columns, k: rows,
                        a: up.storage.pointer, lda: rank, b: weighted.storage.pointer,
                        ldb: columns, c: db, ldc: columns)
                } : nil
            return (upGradient, downGradient)
        }
        let (dFirstUp, dFirstDown) = pairGradients(
            firstUp, firstDown, rank: firstRank, other: second)
        let (dSecondUp, dSecondDown) = pairGradients(
            secondUp, secondDown, rank: secondRank, other: first)
        return [dFirstUp, dFirstDown, dSecondUp, dSecondDown]
    }
}
