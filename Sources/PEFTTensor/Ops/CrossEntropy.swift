#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The target value that cross-entropy skips, PyTorch's convention.
public let ignoredTarget = -100

/// Mean cross-entropy of `logits` against integer targets, fused with the log-softmax.
///
/// `logits` is `[..., V]` and `targets` holds one class per row of `logits` (in `0..<V`, or
/// ``ignoredTarget`` to skip the row). The loss is the mean over the rows not skipped (0 when all are).
/// Backward is `(softmax − onehot) / n` on kept rows and zero on skipped ones, computed from the saved
/// softmax in one pass.
public func crossEntropy(logits: Tensor, targets: [Int]) -> Tensor {
    let classes = logits.shape.last ?? 1
    let rows = logits.count / max(classes, 1)
    precondition(
        targets.count == rows, "crossEntropy: \(targets.count) targets for logits \(logits.shape)")
    let source = logits.storage.pointer
    let probabilities = TensorStorage(count: logits.count)
    var total: Double = 0
    var kept = 0
    for row in 0..<rows {
        let target = targets[row]
        guard target != ignoredTarget else { continue }
        precondition(
            target >= 0 && target < classes,
            "crossEntropy: target \(target) out of range 0..<\(classes)")
        let input = source + row * classes
        let p = probabilities.pointer + row * classes
        var maximum = -Float.infinity
        for j in 0..<classes { maximum = max(maximum, input[j]) }
        var sum: Float = 0
        for j in 0..<classes {
            p[j] = expf(input[j] - maximum)
            sum += p[j]
        }
        let inverse = 1 / sum
        for j in 0..<classes { p[j] *= inverse }
        total += Double(logf(sum) - (input[target] - maximum))
        kept += 1
    }
    let output = Tensor(kept == 0 ? 0 : Float(total / Double(kept)))
    return .result(output, of: [logits]) { g in
        let scale = kept == 0 ? 0 : g.scalar / Float(kept)
        return [
            Tensor.build(logits.shape) { dx in
                for row in 0..<rows {
                    let d = dx + row * classes
                    let target = targets[row]
                    guard target != ignoredTarget else {
                        d.initialize(repeating: 0, count: classes)
                        continue
                    }
                    let p = probabilities.pointer + row * classes
                    for j in 0..<classes { d[j] = p[j] * scale }
                    d[target] -= scale
                }
            }
        ]
    }
}
