/// The Kronecker product of two matrices, scaled: LoKr's weight update.

/// Returns `s·(A ⊗ B)` for `A: [p, q]` and `B: [m, n]`, a `[p·m, q·n]` matrix whose block `(i, j)` is
/// `s·A[i, j]·B` (PyTorch's `torch.kron` layout).
///
/// Backward contracts the output gradient `G` block by block: `dA[i, j] = s·⟨G_ij, B⟩` and
/// `dB = s·Σ_ij A[i, j]·G_ij`, each only when that factor trains.
public func kroneckerProduct(_ a: Tensor, _ b: Tensor, scale: Float = 1) -> Tensor {
    precondition(
        a.rank == 2 && b.rank == 2,
        "kroneckerProduct: operands must be matrices, got \(a.shape) and \(b.shape)")
    let (p, q) = (a.shape[0], a.shape[1])
    let (m, n) = (b.shape[0], b.shape[1])
    let width = q * n
    let output = Tensor.build([p * m, width]) { out in
        let (ap, bp) = (a.storage.pointer, b.storage.pointer)
        for i in 0..<p {
            for j in 0..<q {
                let factor = scale * ap[i * q + j]
                for k in 0..<m {
                    let row = out + (i * m + k) * width + j * n
                    let source = bp + k * n
                    for l in 0..<n { row[l] = factor * source[l] }
                }
            }
        }
    }
    return .result(output, of: [a, b]) { gradient in
        let g = gradient.storage.pointer
        let (ap, bp) = (a.storage.pointer, b.storage.pointer)
        let da: Tensor? =
            a.requiresGradient
            ? Tensor.build([p, q]) { out in
                for i in 0..<p {
                    for j in 0..<q {
                        var sum: Float = 0
                        for k in 0..<m {
                            let row = g + (i * m + k) * width + j * n
                            let source = bp + k * n
                            for l in 0..<n { sum += row[l] * source[l] }
                        }
                        out[i * q + j] = scale * sum
                    }
                }
            } : nil
        let db: Tensor? =
            b.requiresGradient
            ? Tensor.build([m, n]) { out in
                out.update(repeating: 0, count: m * n)
                for i in 0..<p {
                    for j in 0..<q {
                        let factor = scale * ap[i * q + j]
                        for k in 0..<m {
                            let row = g + (i * m + k) * width + j * n
                            let target = out + k * n
                            for l in 0..<n { target[l] += factor * row[l] }
                        }
                    }
                }
            } : nil
        return [da, db]
    }
}
