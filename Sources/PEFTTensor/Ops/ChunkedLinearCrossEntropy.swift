/// The weight of an output head `[V, C]` as a fused head + loss reads it.
public enum OutputHeadWeight {
    /// A Float32 matrix, frozen or trainable.
    case dense(Tensor)
    /// A frozen low-precision matrix.
    case lowPrecision(LowPrecisionMatrix)

    var shape: [Int] {
        switch self {
        case .dense(let tensor): tensor.shape
        case .lowPrecision(let matrix): matrix.shape
        }
    }

    /// `x · Wᵀ`: logits `[rows, V]`, recorded for no gradient.
    func logits(_ x: Tensor) -> Tensor {
        switch self {
        case .dense(let tensor): linear(x, weight: tensor.detached())
        case .lowPrecision(let matrix): linear(x, lowPrecisionWeight: matrix)
        }
    }

    /// `d · W`: the hidden-state gradient `[rows, C]` of logit gradients `d`.
    func inputGradient(_ d: Tensor) -> Tensor {
        switch self {
        case .dense(let tensor): linear(d, weight: tensor.detached(), layout: .inputsByOutputs)
        case .lowPrecision(let matrix):
            linear(d, lowPrecisionWeight: matrix, layout: .inputsByOutputs)
        }
    }
}

/// ``crossEntropy(logits:targets:)`` of the logits `hidden · Wᵀ`, computed a block of rows at a time so
/// that the `[rows, V]` logits and their gradient never exist at once.
///
/// `hidden` is `[..., C]` with one target per row (``ignoredTarget`` skips a row). Forward keeps only
/// each row's log-sum-exp; backward computes each block's logits again, turns them into
/// `(softmax − onehot) / n` in place and multiplies back: the input gradient always, the weight's
/// gradient only for a trainable dense weight. With a GPT-2 vocabulary and 512 tokens this keeps 16 MiB
/// of logits alive instead of 103 MB, plus as much again for their gradient, at the price of computing
/// the head's logits twice.
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
    let blockRows = max(1, blockElements / max(classes, 1))
    let flat = hidden.detached().reshaped(to: [rows, width])
    let kept = targets.count { $0 != ignoredTarget }
    /// Block `first..<first + count`: its logits and targets, and how many of its rows count.
    func block(_ first: Int, _ count: Int) -> (
        input: Tensor, logits: Tensor, targets: [Int], kept: Int
    ) {
        let input = flat.narrowed(alongAxis: 0, start: first, length: count)
        let blockTargets = Array(targets[first..<first + count])
        return (
            input, withoutGradients { weight.logits(input) }, blockTargets,
            blockTargets.count { $0 != ignoredTarget }
        )
    }
    // Each block's mean, weighted back to a sum, summed in block order in Double.
    var total: Double = 0
    for first in stride(from: 0, to: rows, by: blockRows) {
        let part = block(first, min(blockRows, rows - first))
        guard part.kept > 0 else { continue }
        total +=
            Double(crossEntropy(logits: part.logits, targets: part.targets).scalar)
            * Double(part.kept)
    }
    let loss = Tensor(kept == 0 ? 0 : Float(total / Double(kept)))
    var inputs: [Tensor?] = [hidden]
    var trainsWeight = false
    if case .dense(let tensor) = weight {
        inputs.append(tensor)
        trainsWeight = tensor.requiresGradient
    }
    return .result(loss, of: inputs) { gradient in
        var hiddenGradient = Tensor.zeros([rows, width])
        let weightGradient: Tensor? = trainsWeight ? Tensor.zeros([classes, width]) : nil
        for first in stride(from: 0, to: rows, by: blockRows) {
            let count = min(blockRows, rows - first)
            let part = block(first, count)
            guard part.kept > 0 else { continue }
            // (softmax − onehot) / n for the block, from cross-entropy's own backward.
            let logits = part.logits.requiringGradient()
            GradientMode.$recording.withValue(true) {
                crossEntropy(logits: logits, targets: part.targets)
            }.backward(Tensor(gradient.scalar * Float(part.kept) / Float(kept)))
            let logitGradient = logits.gradient!
            let blockGradient = weight.inputGradient(logitGradient)
            (hiddenGradient.storage.pointer + first * width).update(
                from: blockGradient.storage.pointer, count: count * width)
            if let weightGradient {
                // dW += dlogitsᵀ · h
                BLAS.gemm(
                    transposeA: true, transposeB: false, m: classes, n: width, k: count,
                    a: logitGradient.storage.pointer, lda: classes, b: part.input.storage.pointer,
                    ldb: width, beta: 1, c: weightGradient.storage.pointer, ldc: width)
            }
        }
        hiddenGradient = hiddenGradient.reshaped(to: hidden.shape)
        return inputs.count == 2
            ? [hiddenGradient, weightGradient] : [hiddenGradient]
    }
}
