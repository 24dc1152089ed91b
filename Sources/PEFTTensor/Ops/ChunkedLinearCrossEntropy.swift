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

/// ``crossEntropy(logits:targets:)`` of the logits `hidden · Wᵀ`, computed a block of the vocabulary at a
/// time so that the `[rows, V]` logits and their gradient never exist at once.
///
/// `hidden` is `[..., C]` with one target per row (``ignoredTarget`` skips a row). Forward runs over
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
    let panelSize = max(1, min(classes, blockElements / max(rows, 1)))
    let kept = targets.count { $0 != ignoredTarget }
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
