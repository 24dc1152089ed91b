/// How a linear layer stores its weight matrix.
public enum LinearWeightLayout: Sendable {
    /// `[out, in]`, as PyTorch's `nn.Linear` stores it: `y = x·Wᵀ + b`.
    case outputsByInputs
    /// `[in, out]`, as GPT-2's `Conv1D` stores it: `y = x·W + b`.
    case inputsByOutputs
}

/// Applies an affine map to the last dimension of `x`: `x·Wᵀ + b` or `x·W + b` by `layout`.
///
/// `x` is `[..., in]`; the result is `[..., out]`. Forward is one GEMM that starts from the bias.
/// Backward computes the input gradient (one GEMM) only when `x` needs it and the weight gradient
/// (one GEMM over all rows at once) only when the weight trains: a frozen weight costs no GEMM and no
/// buffer, which is where parameter-efficient fine-tuning saves its time and memory.
public func linear(
    _ x: Tensor, weight: Tensor, bias: Tensor? = nil, layout: LinearWeightLayout = .outputsByInputs
) -> Tensor {
    let region = OperationProfiler.enter(.gemm)
    defer { region.end() }
    precondition(
        weight.rank == 2 && x.rank >= 1,
        "linear: weight must be a matrix, got \(weight.shape) for input \(x.shape)")
    let transposeWeight = layout == .outputsByInputs
    let (outputs, inputs) =
        transposeWeight ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
    precondition(
        x.shape.last == inputs,
        "linear: input \(x.shape) does not end in \(inputs) (weight \(weight.shape), layout \(layout))"
    )
    if let bias {
        precondition(bias.shape == [outputs], "linear: bias \(bias.shape) is not [\(outputs)]")
    }
    let rows = x.count / max(inputs, 1)
    let outputShape = Array(x.shape.dropLast()) + [outputs]
    let output = Tensor.build(outputShape) { y in
        if let bias {
            for row in 0..<rows {
                (y + row * outputs).update(from: bias.storage.pointer, count: outputs)
            }
        }
        BLAS.gemm(
            transposeA: false, transposeB: transposeWeight, m: rows, n: outputs, k: inputs,
            a: x.storage.pointer, lda: inputs, b: weight.storage.pointer, ldb: weight.shape[1],
            beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
    }
    return .result(output, of: [x, weight, bias]) { gradient in
        let dy = gradient.storage.pointer
        var inputGradient: Tensor?
        var weightGradient: Tensor?
        var biasGradient: Tensor?
        if x.requiresGradient {
            // dX = dY·W for [out, in], dY·Wᵀ for [in, out].
            inputGradient = Tensor.build(x.shape) { dx in
                BLAS.gemm(
                    transposeA: false, transposeB: !transposeWeight, m: rows, n: inputs, k: outputs,
                    a: dy, lda: outputs, b: weight.storage.pointer, ldb: weight.shape[1], c: dx,
                    ldc: inputs)
            }
        }
        if weight.requiresGradient {
            weightGradient = Tensor.build(weight.shape) { dw in
                if transposeWeight {
                    // dW[out, in] = dYᵀ·X
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows,
                        a: dy, lda: outputs, b: x.storage.pointer, ldb: inputs, c: dw, ldc: inputs)
                } else {
                    // dW[in, out] = Xᵀ·dY
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: inputs, n: outputs, k: rows,
                        a: x.storage.pointer, lda: inputs, b: dy, ldb: outputs, c: dw, ldc: outputs)
                }
            }
        }
        if bias?.requiresGradient == true {
            biasGradient = Tensor.build([outputs]) { db in
                sumRows(dy, rows: rows, columns: outputs, into: db)
            }
        }
        return [inputGradient, weightGradient, biasGradient]
    }
}

/// `out[j] = Σ_i m[i, j]` for a row-major `[rows, columns]` matrix.
@inline(__always)
func sumRows(
    _ m: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
) {
    out.initialize(repeating: 0, count: columns)
    for row in 0..<rows {
        let source = m + row * columns
        for column in 0..<columns { out[column] += source[column] }
    }
}

/// `out[j] = Σ_i m[i, j]` for a row-major `[rows, columns]` matrix.
@inline(__always)
func sumRows(
    _ m: UnsafeMutablePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
) {
    sumRows(UnsafePointer(m), rows: rows, columns: columns, into: out)
}
