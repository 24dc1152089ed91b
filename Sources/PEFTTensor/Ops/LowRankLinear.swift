/// A frozen linear map plus a trainable low-rank update, fused into one node: LoRA's forward pass.

/// Returns `x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ` (or `x·W + …` for an `[in, out]` weight) for `x: [..., in]`,
/// `A: [r, in]`, `B: [out, r]`.
///
/// Forward writes the base product, the bias and the scaled update into one output buffer (three
/// GEMMs with `beta = 1`, no elementwise pass), which is what keeps unmerged inference close to merged.
/// Backward computes `dx` only if `x` needs it, and each of `dW`, `dA`, `dB`, `db` only if that tensor
/// trains: with the usual frozen `W` that is two `r`-wide GEMMs and `dx`.
public func lowRankLinear(
    _ x: Tensor, weight: Tensor, bias: Tensor?, layout: LinearWeightLayout, down: Tensor,
    up: Tensor, scale: Float
) -> Tensor {
    let region = OperationProfiler.enter(.gemm)
    defer { region.end() }
    let transposeWeight = layout == .outputsByInputs
    let (outputs, inputs) =
        transposeWeight ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
    let rank = down.shape[0]
    precondition(
        x.shape.last == inputs && down.shape == [rank, inputs] && up.shape == [outputs, rank],
        "lowRankLinear: x \(x.shape), weight \(weight.shape) (\(layout)), A \(down.shape), B \(up.shape) do not fit"
    )
    if let bias {
        precondition(
            bias.shape == [outputs], "lowRankLinear: bias \(bias.shape) is not [\(outputs)]")
    }
    let rows = x.count / max(inputs, 1)
    // h = x·Aᵀ, kept for backward: [rows, r] is small next to x.
    let loraRegion = OperationProfiler.enter(.lora)
    let hidden = Tensor.build([rows, rank]) { h in
        BLAS.gemm(
            transposeA: false, transposeB: true, m: rows, n: rank, k: inputs, a: x.storage.pointer,
            lda: inputs,
            b: down.storage.pointer, ldb: inputs, c: h, ldc: rank)
    }
    loraRegion.end()
    let output = Tensor.build(Array(x.shape.dropLast()) + [outputs]) { y in
        if let bias {
            for row in 0..<rows {
                (y + row * outputs).update(from: bias.storage.pointer, count: outputs)
            }
        }
        BLAS.gemm(
            transposeA: false, transposeB: transposeWeight, m: rows, n: outputs, k: inputs,
            a: x.storage.pointer,
            lda: inputs, b: weight.storage.pointer, ldb: weight.shape[1], beta: bias == nil ? 0 : 1,
            c: y,
            ldc: outputs)
        OperationProfiler.measure(.lora) {
            BLAS.gemm(
                transposeA: false, transposeB: true, m: rows, n: outputs, k: rank, alpha: scale,
                a: hidden.storage.pointer, lda: rank, b: up.storage.pointer, ldb: rank, beta: 1,
                c: y, ldc: outputs)
        }
    }
    return .result(output, of: [x, weight, bias, down, up]) { gradient in
        let dy = gradient.storage.pointer
        let (xp, h) = (x.storage.pointer, hidden.storage.pointer)
        let needsHiddenGradient = x.requiresGradient || down.requiresGradient
        // dh = s·dY·B: [rows, r]
        let hiddenGradient: Tensor? =
            needsHiddenGradient
            ? OperationProfiler.measure(.lora) {
                Tensor.build([rows, rank]) { dh in
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: rows, n: rank, k: outputs,
                        alpha: scale, a: dy,
                        lda: outputs, b: up.storage.pointer, ldb: rank, c: dh, ldc: rank)
                }
            } : nil
        var dx: Tensor?
        if x.requiresGradient, let hiddenGradient {
            dx = Tensor.build(x.shape) { dxp in
                // dX = dY·W (or dY·Wᵀ), then dX += dh·A.
                BLAS.gemm(
                    transposeA: false, transposeB: !transposeWeight, m: rows, n: inputs, k: outputs,
                    a: dy,
                    lda: outputs, b: weight.storage.pointer, ldb: weight.shape[1], c: dxp,
                    ldc: inputs)
                OperationProfiler.measure(.lora) {
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: rows, n: inputs, k: rank,
                        a: hiddenGradient.storage.pointer, lda: rank, b: down.storage.pointer,
                        ldb: inputs, beta: 1,
                        c: dxp, ldc: inputs)
                }
            }
        }
        var dWeight: Tensor?
        if weight.requiresGradient {
            dWeight = Tensor.build(weight.shape) { dw in
                if transposeWeight {
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows, a: dy,
                        lda: outputs,
                        b: xp, ldb: inputs, c: dw, ldc: inputs)
                } else {
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: inputs, n: outputs, k: rows, a: xp,
                        lda: inputs,
                        b: dy, ldb: outputs, c: dw, ldc: outputs)
                }
            }
        }
        let loraGradients = OperationProfiler.enter(.lora)
        var dDown: Tensor?
        if down.requiresGradient, let hiddenGradient {
            // dA = dhᵀ·X: [r, in]
            dDown = Tensor.build(down.shape) { da in
                BLAS.gemm(
                    transposeA: true, transposeB: false, m: rank, n: inputs, k: rows,
                    a: hiddenGradient.storage.pointer, lda: rank, b: xp, ldb: inputs, c: da,
                    ldc: inputs)
            }
        }
        var dUp: Tensor?
        if up.requiresGradient {
            // dB = s·dYᵀ·h: [out, r]
            dUp = Tensor.build(up.shape) { db in
                BLAS.gemm(
                    transposeA: true, transposeB: false, m: outputs, n: rank, k: rows, alpha: scale,
                    a: dy,
                    lda: outputs, b: h, ldb: rank, c: db, ldc: rank)
            }
        }
        loraGradients.end()
        let dBias =
            bias?.requiresGradient == true
            ? Tensor.build([outputs]) { sumRows(dy, rows: rows, columns: outputs, into: $0) } : nil
        return [dx, dWeight, dBias, dDown, dUp]
    }
}
