/// Multi-head scaled dot-product attention as one autograd node.

/// Computes `softmax(scale·Q·Kᵀ + bias + mask)·V` for every batch row and head.
///
/// `query` is `[B, Tq, H·D]` and `key`, `value` are `[B, Tk, H·D]`, heads interleaved in the last
/// dimension exactly as the projections produce them: each head is reached through a pointer offset and a
/// leading dimension of `H·D`, so no permute copy is ever made. `mask` is a constant additive mask that
/// broadcasts to `[B, H, Tq, Tk]` (a causal `[Tq, Tk]`, a padding `[B, 1, 1, Tk]`); `bias` is a
/// differentiable additive bias of the same kind (T5's relative positions, `[1, H, Tq, Tk]`). The result
/// is `[B, Tq, H·D]`. Backward saves only the attention probabilities (and the dropout mask, if any) and
/// skips the gradient of every input that needs none.
///
/// `dropoutMask`, when given, is a constant `[B, H, Tq, Tk]` factor on the probabilities after the
/// softmax (attention dropout: 0 for a dropped weight, `1/(1 − p)` for a kept one, from
/// ``dropoutMask(_:probability:using:)``), so the result is `(M ⊙ softmax(...))·V`. Without it the op
/// makes no extra pass.
public func attention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, scale: Float, mask: Tensor? = nil,
    bias: Tensor? = nil, dropoutMask: Tensor? = nil
) -> Tensor {
    precondition(
        query.rank == 3 && key.rank == 3 && key.shape == value.shape
            && query.shape[0] == key.shape[0]
            && query.shape[2] == key.shape[2] && query.shape[2] % heads == 0,
        "attention: query \(query.shape), key \(key.shape), value \(value.shape) do not fit \(heads) heads"
    )
    let (batch, queries, width) = (query.shape[0], query.shape[1], query.shape[2])
    let keys = key.shape[1]
    let headSize = width / heads
    let scoresShape = [batch, heads, queries, keys]
    precondition(
        dropoutMask == nil || dropoutMask!.shape == scoresShape,
        "attention: dropout mask \(dropoutMask!.shape) is not \(scoresShape)")
    let q = query.storage.pointer
    let k = key.storage.pointer
    let v = value.storage.pointer

    var scores = Tensor.build(scoresShape) { s in
        for b in 0..<batch {
            for h in 0..<heads {
                BLAS.gemm(
                    transposeA: false, transposeB: true, m: queries, n: keys, k: headSize,
                    alpha: scale,
                    a: q + b * queries * width + h * headSize, lda: width,
                    b: k + b * keys * width + h * headSize, ldb: width,
                    c: s + (b * heads + h) * queries * keys, ldc: keys)
            }
        }
    }
    withoutGradients {
        if let bias { scores = scores + bias.detached() }
        if let mask { scores = scores + mask.detached() }
    }
    let probabilities = withoutGradients { softmax(scores) }
    // The dropped probabilities live only for this product; backward rebuilds them for dV, which saves
    // a [B, H, Tq, Tk] buffer per layer between the passes.
    let kept = dropoutMask.map { maskedProbabilities(probabilities, $0) }
    let output = withExtendedLifetime(kept) {
        let p = (kept ?? probabilities).storage.pointer
        return Tensor.build([batch, queries, width]) { o in
            for b in 0..<batch {
                for h in 0..<heads {
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: queries, n: headSize, k: keys,
                        a: p + (b * heads + h) * queries * keys, lda: keys,
                        b: v + b * keys * width + h * headSize, ldb: width,
                        c: o + b * queries * width + h * headSize, ldc: width)
                }
            }
        }
    }
    return .result(output, of: [query, key, value, bias]) { gradient in
        // Pointers are taken again here so the closure keeps the tensors, and their storage, alive.
        let (q, k, v) = (query.storage.pointer, key.storage.pointer, value.storage.pointer)
        let p = probabilities.storage.pointer
        let m = dropoutMask?.storage.pointer
        let dO = gradient.storage.pointer
        let needsScores =
            query.requiresGradient || key.requiresGradient || bias?.requiresGradient == true
        var valueGradient: Tensor?
        if value.requiresGradient {
            let kept = dropoutMask.map { maskedProbabilities(probabilities, $0) }
            valueGradient = withExtendedLifetime(kept) {
                let p = (kept ?? probabilities).storage.pointer
                return Tensor.build(value.shape) { dV in
                    for b in 0..<batch {
                        for h in 0..<heads {
                            // dV = (M ⊙ P)ᵀ·dO
                            BLAS.gemm(
                                transposeA: true, transposeB: false, m: keys, n: headSize,
                                k: queries,
                                a: p + (b * heads + h) * queries * keys, lda: keys,
                                b: dO + b * queries * width + h * headSize, ldb: width,
                                c: dV + b * keys * width + h * headSize, ldc: width)
                        }
                    }
                }
            }
        }
        guard needsScores else { return [nil, nil, valueGradient, nil] }
        // dS = P ⊙ (dP − Σ_j dP ⊙ P), with dP = M ⊙ (dO·Vᵀ) (dP = dO·Vᵀ without dropout), written over
        // one buffer.
        let scoreGradient = Tensor.build(scoresShape) { dS in
            for b in 0..<batch {
                for h in 0..<heads {
                    let offset = (b * heads + h) * queries * keys
                    BLAS.gemm(
                        transposeA: false, transposeB: true, m: queries, n: keys, k: headSize,
                        a: dO + b * queries * width + h * headSize, lda: width,
                        b: v + b * keys * width + h * headSize, ldb: width,
                        c: dS + offset, ldc: keys)
                    for row in 0..<queries {
                        let base = offset + row * keys
                        if let m { for j in 0..<keys { dS[base + j] *= m[base + j] } }
                        var dot: Float = 0
                        for j in 0..<keys { dot += dS[base + j] * p[base + j] }
                        for j in 0..<keys { dS[base + j] = p[base + j] * (dS[base + j] - dot) }
                    }
                }
            }
        }
        let dS = scoreGradient.storage.pointer
        var queryGradient: Tensor?
        var keyGradient: Tensor?
        if query.requiresGradient {
            queryGradient = Tensor.build(query.shape) { dQ in
                for b in 0..<batch {
                    for h in 0..<heads {
                        // dQ = scale·dS·K
                        BLAS.gemm(
                            transposeA: false, transposeB: false, m: queries, n: headSize, k: keys,
                            alpha: scale,
                            a: dS + (b * heads + h) * queries * keys, lda: keys,
                            b: k + b * keys * width + h * headSize, ldb: width,
                            c: dQ + b * queries * width + h * headSize, ldc: width)
                    }
                }
            }
        }
        if key.requiresGradient {
            keyGradient = Tensor.build(key.shape) { dK in
                for b in 0..<batch {
                    for h in 0..<heads {
                        // dK = scale·dSᵀ·Q
                        BLAS.gemm(
                            transposeA: true, transposeB: false, m: keys, n: headSize, k: queries,
                            alpha: scale,
                            a: dS + (b * heads + h) * queries * keys, lda: keys,
                            b: q + b * queries * width + h * headSize, ldb: width,
                            c: dK + b * keys * width + h * headSize, ldc: width)
                    }
                }
            }
        }
        let biasGradient =
            bias?.requiresGradient == true ? scoreGradient.summed(toShape: bias!.shape) : nil
        return [queryGradient, keyGradient, valueGradient, biasGradient]
    }
}

/// `P ⊙ M`: the attention probabilities after dropout.
private func maskedProbabilities(_ probabilities: Tensor, _ mask: Tensor) -> Tensor {
    let (p, m) = (probabilities.storage.pointer, mask.storage.pointer)
    return Tensor.build(probabilities.shape) { out in
        forEachElementBlock(count: probabilities.count) { range in
            for index in range { out[index] = p[index] * m[index] }
        }
    }
}
