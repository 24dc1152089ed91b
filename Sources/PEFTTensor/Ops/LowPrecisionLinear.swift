/// ``linear(_:weight:bias:layout:)`` over a frozen low-precision weight: `x·Wᵀ + b` or `x·W + b`.
///
/// The weight is dequantised a panel of rows at a time into one reused scratch buffer (at most
/// ``lowPrecisionPanelElements`` values) and each panel goes through sgemm, so no Float32 copy of the
/// weight ever exists. Backward computes the input gradient the same way from the stored weight; the
/// weight is frozen and gets no gradient; a trainable bias does.
public func linear(
    _ x: Tensor, lowPrecisionWeight weight: LowPrecisionMatrix, bias: Tensor? = nil,
    layout: LinearWeightLayout = .outputsByInputs
) -> Tensor {
    let region = OperationProfiler.enter(.gemm)
    defer { region.end() }
    let byOutputs = layout == .outputsByInputs
    let (outputs, inputs) =
        byOutputs ? (weight.rows, weight.columns) : (weight.columns, weight.rows)
    precondition(
        x.rank >= 1 && x.shape.last == inputs,
        "linear: input \(x.shape) does not end in \(inputs) (low-precision weight \(weight.shape), layout \(layout))"
    )
    if let bias {
        precondition(bias.shape == [outputs], "linear: bias \(bias.shape) is not [\(outputs)]")
    }
    let rows = x.count / max(inputs, 1)
    let output = Tensor.build(Array(x.shape.dropLast()) + [outputs]) { y in
        if let bias {
            for row in 0..<rows {
                (y + row * outputs).update(from: bias.storage.pointer, count: outputs)
            }
        } else {
            y.initialize(repeating: 0, count: rows * outputs)
        }
        // Measured on GPT-2 small decoding: the fused product helps NF4 (12 → 18 tokens/s), whose
        // dequantisation is dearest, and slows bf16, whose panels sgemm reads faster.
        if rows <= fusedLowPrecisionRows && weight.format == .nf4 {
            fusedProduct(
                x.storage.pointer, rows: rows, weight: weight, byOutputs: byOutputs, into: y)
            return
        }
        forEachPanel(of: weight) { panel, panelRows in
            let first = panelRows.lowerBound
            if byOutputs {
                // y[:, panel] = x · panelᵀ: the panel is a block of output rows.
                BLAS.gemm(
                    transposeA: false, transposeB: true, m: rows, n: panelRows.count, k: inputs,
                    a: x.storage.pointer, lda: inputs, b: panel, ldb: inputs, beta: 1,
                    c: y + first, ldc: outputs)
            } else {
                // y += x[:, panel] · panel: the panel is a block of input rows.
                BLAS.gemm(
                    transposeA: false, transposeB: false, m: rows, n: outputs, k: panelRows.count,
                    a: x.storage.pointer + first, lda: inputs, b: panel, ldb: outputs, beta: 1,
                    c: y, ldc: outputs)
            }
        }
    }
    // Backward needs only the input's shape: the weight is frozen, so `x` itself is not kept alive.
    let (inputShape, needsInputGradient) = (x.shape, x.requiresGradient)
    return .result(output, of: [x, bias]) { gradient in
        let dy = gradient.storage.pointer
        var inputGradient: Tensor?
        if needsInputGradient {
            inputGradient = Tensor.build(inputShape) { dx in
                forEachPanel(of: weight) { panel, panelRows in
                    let first = panelRows.lowerBound
                    if byOutputs {
                        // dX += dY[:, panel] · panel
                        BLAS.gemm(
                            transposeA: false, transposeB: false, m: rows, n: inputs,
                            k: panelRows.count, a: dy + first, lda: outputs, b: panel,
                            ldb: inputs, beta: first == 0 ? 0 : 1, c: dx, ldc: inputs)
                    } else {
                        // dX[:, panel] = dY · panelᵀ
                        BLAS.gemm(
                            transposeA: false, transposeB: true, m: rows, n: panelRows.count,
                            k: outputs, a: dy, lda: outputs, b: panel, ldb: outputs, c: dx + first,
                            ldc: inputs)
                    }
                }
            }
        }
        var biasGradient: Tensor?
        if bias?.requiresGradient == true {
            biasGradient = Tensor.build([outputs]) {
                sumRows(dy, rows: rows, columns: outputs, into: $0)
            }
        }
        return [inputGradient, biasGradient]
    }
}

/// The most Float32 values one dequantised panel holds: 4 MiB, large enough that sgemm runs at full
/// speed on each panel, small beside any weight worth compressing.
public let lowPrecisionPanelElements = 1 << 20

/// Dequantises `weight` a block of rows at a time into one scratch buffer and hands each to `body`.
func forEachPanel(
    of weight: LowPrecisionMatrix,
    _ body: (_ panel: UnsafeMutablePointer<Float>, _ rows: Range<Int>) -> Void
) {
    guard weight.rows > 0 && weight.columns > 0 else { return }
    let panelRows = max(1, min(weight.rows, lowPrecisionPanelElements / weight.columns))
    let scratch = TensorStorage(count: panelRows * weight.columns)
    for first in stride(from: 0, to: weight.rows, by: panelRows) {
        let range = first..<min(first + panelRows, weight.rows)
        dequantizeInParallel(weight, rows: range, into: scratch.pointer)
        body(scratch.pointer, range)
    }
}

/// ``LowPrecisionMatrix/dequantizeRows(_:into:)`` split over the cores in fixed blocks of rows.
func dequantizeInParallel(
    _ weight: LowPrecisionMatrix, rows range: Range<Int>, into output: UnsafeMutablePointer<Float>
) {
    let rowsPerBlock = ParallelLoops.rowsPerBlock(elementsPerRow: weight.columns)
    ParallelLoops.forEachBlock(
        rows: range.count, rowsPerBlock: rowsPerBlock, elementsPerRow: weight.columns
    ) { _, block in
        weight.dequantizeRows(
            (range.lowerBound + block.lowerBound)..<(range.lowerBound + block.upperBound),
            into: output + block.lowerBound * weight.columns)
    }
}

/// ``gatherRows(_:indices:indexShape:)`` from a frozen low-precision table `[V, C]`: each looked-up
/// row is dequantised straight into the result. The table gets no gradient.
public func gatherRows(
    _ table: LowPrecisionMatrix, indices: [Int], indexShape: [Int]? = nil
) -> Tensor {
    let region = OperationProfiler.enter(.dataMovement)
    defer { region.end() }
    let shape = indexShape ?? [indices.count]
    precondition(
        shape.reduce(1, *) == indices.count,
        "gatherRows: index shape \(shape) does not hold \(indices.count) indices")
    for index in indices {
        precondition(
            index >= 0 && index < table.rows,
            "gatherRows: index \(index) out of range for table \(table.shape)")
    }
    return Tensor.build(shape + [table.columns]) { out in
        for (position, index) in indices.enumerated() {
            table.dequantizeRows(index..<(index + 1), into: out + position * table.columns)
        }
    }
}

/// Up to this many input rows (decoding), a product reads each weight row once, dequantised into a
/// small buffer that stays in cache, instead of writing whole panels for sgemm: the weight's bytes are
/// then most of the memory traffic, which is what a smaller format saves.
let fusedLowPrecisionRows = 4

/// `y += x · Wᵀ` (`byOutputs`) or `y += x · W` for at most ``fusedLowPrecisionRows`` rows of `x`, over
/// fixed blocks of weight rows in parallel. With `W` as `[in, out]` each block adds into its own partial
/// sum, and the partial sums are added in block order, so the result does not depend on the threads.
func fusedProduct(
    _ x: UnsafePointer<Float>, rows: Int, weight: LowPrecisionMatrix, byOutputs: Bool,
    into y: UnsafeMutablePointer<Float>
) {
    let (rowCount, width) = (weight.rows, weight.columns)
    let rowsPerBlock = max(1, (1 << 14) / max(width, 1))
    let blocks = ParallelLoops.blockCount(rows: rowCount, rowsPerBlock: rowsPerBlock)
    // byOutputs: y[r, o] += x[r, :] · W[o, :], each block owning its outputs.
    // Otherwise: partial[b][r, :] += x[r, i] · W[i, :] over the block's input rows i.
    let partials = byOutputs ? nil : TensorStorage(count: blocks * rows * width, repeating: 0)
    ParallelLoops.forEachBlock(rows: rowCount, rowsPerBlock: rowsPerBlock, elementsPerRow: width) {
        block, range in
        // At most 2¹⁴ values (64 KiB) on the worker's stack: no heap allocation per block.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: range.count * width) { scratch in
            let buffer = scratch.baseAddress!
            weight.dequantizeRows(range, into: buffer)
            for (offset, weightRow) in range.enumerated() {
                let values = UnsafePointer(buffer + offset * width)
                for row in 0..<rows {
                    if byOutputs {
                        y[row * rowCount + weightRow] += vectorDot(
                            x + row * width, values, count: width)
                    } else {
                        let scale = x[row * rowCount + weightRow]
                        let target = partials!.pointer + (block * rows + row) * width
                        for column in 0..<width { target[column] += scale * values[column] }
                    }
                }
            }
        }
    }
    guard let partials else { return }
    for block in 0..<blocks {
        for index in 0..<rows * width { y[index] += partials.pointer[block * rows * width + index] }
    }
}
