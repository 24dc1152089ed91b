#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The weight of an output head `[V, C]` as a fused head + loss reads it.
public enum OutputHeadWeight {
    /// A Float32 matrix, frozen or trainable.
    case dense(Tensor)
    /// A frozen low-precision matrix.
    case lowPrecision(LowPrecisionMatrix)

    var isLowPrecision: Bool {
        if case .lowPrecision = self { return true }
        return false
    }

    var shape: [Int] {
        switch self {
        case .dense(let tensor): tensor.shape
        case .lowPrecision(let matrix): matrix.shape
        }
    }

    /// Rows `range` of the matrix in Float32: the stored rows of a dense weight, or a low-precision
    /// one's dequantised into `scratch`.
    func rows(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch self {
        case .dense(let tensor):
            return UnsafePointer(tensor.storage.pointer + range.lowerBound * shape[1])
        case .lowPrecision(let matrix):
            dequantizeInParallel(matrix, rows: range, into: scratch)
            return UnsafePointer(scratch)
        }
    }
}

/// ``crossEntropy(logits:targets:)`` of the logits `hidden · Wᵀ`, computed a block at a time so that
/// the `[rows, V]` logits and their gradient never exist at once.
///
/// `hidden` is `[..., C]` with one target per row (``ignoredTarget`` skips a row). A dense head that
/// backward will need runs over blocks of rows and computes the gradients during forward (see
/// `denseLinearCrossEntropy`): no head product is repeated. Otherwise forward runs over
/// panels of the head's rows (at most `blockElements` logits at once), keeping a running maximum and
/// sum per row as an online softmax does; it saves only each row's log-sum-exp. Backward computes each
/// panel's logits again, turns them into `(softmax − onehot) / n` and multiplies back: the input
/// gradient always, the panel's weight gradient only for a trainable dense weight. A low-precision head
/// is dequantised once a pass, as an unblocked product would. With a GPT-2 vocabulary and 512 tokens
/// this keeps 16 MiB of logits alive instead of 103 MB, plus as much again for their gradient, for one
/// more head product in backward.
public func linearCrossEntropy(
    _ hidden: Tensor, weight: OutputHeadWeight, targets: [Int],
    blockElements: Int = 1 << 22
) -> Tensor {
    let region = OperationProfiler.enter(.crossEntropy)
    defer { region.end() }
    let (classes, width) = (weight.shape[0], weight.shape[1])
    precondition(
        hidden.shape.last == width,
        "linearCrossEntropy: hidden \(hidden.shape) does not end in the head's \(width)")
    let rows = hidden.count / max(width, 1)
    precondition(
        targets.count == rows, "linearCrossEntropy: \(targets.count) targets for \(rows) rows")
    for target in targets where target != ignoredTarget {
        precondition(
            target >= 0 && target < classes,
            "linearCrossEntropy: target \(target) out of range 0..<\(classes)")
    }
    let kept = targets.count { $0 != ignoredTarget }
    if case .dense(let tensor) = weight, GradientMode.isEnabled,
        hidden.requiresGradient || tensor.requiresGradient
    {
        // Twice the logits per block: the head's products then run on about 170 rows (GPT-2) instead
        // of 83, where OpenBLAS reaches ~180 instead of ~150 GFLOP/s (it repacks the head per block).
        return denseLinearCrossEntropy(
            hidden, weight: tensor, targets: targets, kept: kept, blockElements: 2 * blockElements)
    }
    let panelSize = max(1, min(classes, blockElements / max(rows, 1)))
    let input = hidden.detached()
    // Per row: the running maximum, the sum of e^(x − maximum), and the target's logit.
    var maxima = [Float](repeating: -.infinity, count: rows)
    var sums = [Float](repeating: 0, count: rows)
    var targetLogits = [Float](repeating: 0, count: rows)
    forEachLogitPanel(input, rows: rows, weight: weight, panelSize: panelSize) {
        first, count, _, logits in
        maxima.withUnsafeMutableBufferPointer { maxima in
            sums.withUnsafeMutableBufferPointer { sums in
                targetLogits.withUnsafeMutableBufferPointer { targetLogits in
                    ParallelLoops.forEachBlock(rows: rows, rowsPerBlock: 8, elementsPerRow: count) {
                        _, block in
                        for row in block where targets[row] != ignoredTarget {
                            let values = UnsafePointer(logits.pointer + row * count)
                            let newMaximum = max(maxima[row], vectorMaximum(values, count: count))
                            var total = FloatVector()
                            forEachVector(count: count) { offset, lanes in
                                total += vectorExp(
                                    load(values, offset, lanes: lanes, padding: -.infinity)
                                        - newMaximum)
                            }
                            sums[row] = sums[row] * expf(maxima[row] - newMaximum) + total.sum()
                            maxima[row] = newMaximum
                            let target = targets[row]
                            if target >= first && target < first + count {
                                targetLogits[row] = values[target - first]
                            }
                        }
                    }
                }
            }
        }
    }
    let logSumExps = (0..<rows).map { maxima[$0] + logf(sums[$0]) }
    // Summed in row order and in Double, so the loss does not depend on the thread count.
    var total: Double = 0
    for row in 0..<rows where targets[row] != ignoredTarget {
        total += Double(logSumExps[row] - targetLogits[row])
    }
    let loss = Tensor(kept == 0 ? 0 : Float(total / Double(kept)))
    var inputs: [Tensor?] = [hidden]
    var trainsWeight = false
    if case .dense(let tensor) = weight {
        inputs.append(tensor)
        trainsWeight = tensor.requiresGradient
    }
    return .result(loss, of: inputs) { gradient in
        let scale = kept == 0 ? 0 : gradient.scalar / Float(kept)
        let hiddenGradient = Tensor.zeros(hidden.shape)
        let weightGradient: Tensor? = trainsWeight ? Tensor.zeros([classes, width]) : nil
        forEachLogitPanel(input, rows: rows, weight: weight, panelSize: panelSize) {
            first, count, panel, logits in
            // The logits become their gradient in place: (softmax − onehot) · scale.
            ParallelLoops.forEachBlock(rows: rows, rowsPerBlock: 8, elementsPerRow: count) {
                _, block in
                for row in block {
                    let values = logits.pointer + row * count
                    let target = targets[row]
                    guard target != ignoredTarget else {
                        values.initialize(repeating: 0, count: count)
                        continue
                    }
                    let logSumExp = logSumExps[row]
                    forEachVector(count: count) { offset, lanes in
                        let x = load(UnsafePointer(values), offset, lanes: lanes, padding: 0)
                        store(vectorExp(x - logSumExp) * scale, values, offset, lanes: lanes)
                    }
                    if target >= first && target < first + count { values[target - first] -= scale }
                }
            }
            // dH += dlogits · W[panel]
            BLAS.gemm(
                transposeA: false, transposeB: false, m: rows, n: width, k: count,
                a: logits.pointer, lda: count, b: panel, ldb: width, beta: 1,
                c: hiddenGradient.storage.pointer, ldc: width)
            if let weightGradient {
                // dW[panel] = dlogitsᵀ · H
                BLAS.gemm(
                    transposeA: true, transposeB: false, m: count, n: width, k: rows,
                    a: logits.pointer, lda: count, b: input.storage.pointer, ldb: width,
                    c: weightGradient.storage.pointer + first * width, ldc: width)
            }
        }
        return inputs.count == 2 ? [hiddenGradient, weightGradient] : [hiddenGradient]
    }
}

/// Hands `body` each panel of `panelSize` vocabulary entries: its first entry, its size, the panel of the
/// head in Float32 and the logits `input · panelᵀ` (`[rows, count]`, in a buffer reused across panels).
private func forEachLogitPanel(
    _ input: Tensor, rows: Int, weight: OutputHeadWeight, panelSize: Int,
    _ body: (
        _ first: Int, _ count: Int, _ panel: UnsafePointer<Float>, _ logits: TensorStorage
    ) -> Void
) {
    let (classes, width) = (weight.shape[0], weight.shape[1])
    let logits = TensorStorage(count: rows * panelSize)
    let scratch = TensorStorage(count: weight.isLowPrecision ? panelSize * width : 0)
    for first in stride(from: 0, to: classes, by: panelSize) {
        let count = min(panelSize, classes - first)
        let panel = weight.rows(first..<first + count, scratch: scratch.pointer)
        BLAS.gemm(
            transposeA: false, transposeB: true, m: rows, n: count, k: width,
            a: input.storage.pointer, lda: width, b: panel, ldb: width, c: logits.pointer,
            ldc: count)
        body(first, count, panel, logits)
    }
}

/// The dense head's fused loss when a gradient is wanted: for each block of rows, the logits over
/// the whole vocabulary, their softmax turned in place into `(softmax − onehot) / n`, then `dH` for
/// those rows and (for a trainable head) the block's share of `dW`. The loss is a scalar, so its
/// gradient is these times the incoming scalar, which backward applies. Each head product runs once,
/// as with unblocked logits, and at most `blockElements` logits exist at a time.
private func denseLinearCrossEntropy(
    _ hidden: Tensor, weight: Tensor, targets: [Int], kept: Int, blockElements: Int
) -> Tensor {
    let (classes, width) = (weight.shape[0], weight.shape[1])
    let rows = hidden.count / max(width, 1)
    let blockRows = max(1, min(rows, blockElements / max(classes, 1)))
    let inverseKept = kept == 0 ? 0 : 1 / Float(kept)
    let (h, w) = (hidden.storage.pointer, UnsafePointer(weight.storage.pointer))
    var rowLosses = [Float](repeating: 0, count: rows)
    let hiddenGradient: Tensor? = hidden.requiresGradient ? Tensor.zeros(hidden.shape) : nil
    let weightGradient: Tensor? = weight.requiresGradient ? Tensor.zeros([classes, width]) : nil
    let logits = TensorStorage(count: blockRows * classes)
    for first in stride(from: 0, to: rows, by: blockRows) {
        let count = min(blockRows, rows - first)
        BLAS.gemm(
            transposeA: false, transposeB: true, m: count, n: classes, k: width,
            a: h + first * width, lda: width, b: w, ldb: width, c: logits.pointer, ldc: classes)
        rowLosses.withUnsafeMutableBufferPointer { rowLosses in
            ParallelLoops.forEachBlock(rows: count, rowsPerBlock: 4, elementsPerRow: classes) {
                _, block in
                for local in block {
                    let values = logits.pointer + local * classes
                    let target = targets[first + local]
                    guard target != ignoredTarget else {
                        values.initialize(repeating: 0, count: classes)
                        continue
                    }
                    let targetLogit = values[target]
                    let maximum = vectorMaximum(UnsafePointer(values), count: classes)
                    var total = FloatVector()
                    forEachVector(count: classes) { offset, lanes in
                        let x = load(
                            UnsafePointer(values), offset, lanes: lanes, padding: -.infinity)
                        let e = vectorExp(x - maximum)
                        total += e
                        store(e, values, offset, lanes: lanes)
                    }
                    let sum = total.sum()
                    rowLosses[first + local] = maximum + logf(sum) - targetLogit
                    let factor = inverseKept / sum
                    forEachVector(count: classes) { offset, lanes in
                        let e = load(UnsafePointer(values), offset, lanes: lanes, padding: 0)
                        store(e * factor, values, offset, lanes: lanes)
                    }
                    values[target] -= inverseKept
                }
            }
        }
        if let hiddenGradient {
            // dH[block] = dlogits · W
            BLAS.gemm(
                transposeA: false, transposeB: false, m: count, n: width, k: classes,
                a: logits.pointer, lda: classes, b: w, ldb: width,
                c: hiddenGradient.storage.pointer + first * width, ldc: width)
        }
        if let weightGradient {
            // dW += dlogitsᵀ · H[block]
            BLAS.gemm(
                transposeA: true, transposeB: false, m: classes, n: width, k: count,
                a: logits.pointer, lda: classes, b: h + first * width, ldb: width,
                beta: first == 0 ? 0 : 1, c: weightGradient.storage.pointer, ldc: width)
        }
    }
    // Summed in row order and in Double, so the loss does not depend on the thread count.
    var total: Double = 0
    for row in 0..<rows where targets[row] != ignoredTarget { total += Double(rowLosses[row]) }
    let loss = Tensor(kept == 0 ? 0 : Float(total / Double(kept)))
    return .result(loss, of: [hidden, weight]) { gradient in
        let scale = gradient.scalar
        func scaled(_ tensor: Tensor?) -> Tensor? {
            guard let tensor else { return nil }
            return scale == 1 ? tensor : tensor * scale
        }
        return [scaled(hiddenGradient), scaled(weightGradient)]
    }
}
