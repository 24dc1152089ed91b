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
/// Backward is `(softmax − onehot) / n` on kept rows and zero on skipped ones. Forward saves only each
/// row's maximum and `1 / Σ e^(x − max)`, and backward recomputes the softmax from the logits in the
/// same pass that writes the gradient: with a GPT-2 vocabulary the probabilities would be the largest
/// activation of the step, and re-reading the logits costs no more memory traffic than reading them.
public func crossEntropy(logits: Tensor, targets: [Int]) -> Tensor {
    let region = OperationProfiler.enter(.crossEntropy)
    defer { region.end() }
    let classes = logits.shape.last ?? 1
    let rows = logits.count / max(classes, 1)
    precondition(
        targets.count == rows, "crossEntropy: \(targets.count) targets for logits \(logits.shape)")
    for target in targets where target != ignoredTarget {
        precondition(
            target >= 0 && target < classes,
            "crossEntropy: target \(target) out of range 0..<\(classes)")
    }
    let source = UnsafePointer(logits.storage.pointer)
    // Per row: the maximum, 1 / Σ e^(x − max), and the loss (0 for a skipped row).
    var maxima = [Float](repeating: 0, count: rows)
    var inverseSums = [Float](repeating: 0, count: rows)
    var losses = [Float](repeating: 0, count: rows)
    maxima.withUnsafeMutableBufferPointer { maxima in
        inverseSums.withUnsafeMutableBufferPointer { inverseSums in
            losses.withUnsafeMutableBufferPointer { losses in
                ParallelLoops.forEachBlock(
                    rows: rows, rowsPerBlock: 1, elementsPerRow: classes
                ) { _, block in
                    for row in block where targets[row] != ignoredTarget {
                        let input = source + row * classes
                        let maximum = vectorMaximum(input, count: classes)
                        var total = FloatVector()
                        forEachVector(count: classes) { offset, lanes in
                            total += vectorExp(
                                load(input, offset, lanes: lanes, padding: -.infinity) - maximum)
                        }
                        let sum = total.sum()
                        maxima[row] = maximum
                        inverseSums[row] = 1 / sum
                        losses[row] = logf(sum) - (input[targets[row]] - maximum)
                    }
                }
            }
        }
    }
    // Summed in row order and in Double, so the loss does not depend on the thread count.
    var total: Double = 0
    var kept = 0
    for row in 0..<rows where targets[row] != ignoredTarget {
        total += Double(losses[row])
        kept += 1
    }
    let output = Tensor(kept == 0 ? 0 : Float(total / Double(kept)))
    return .result(output, of: [logits]) { g in
        let scale = kept == 0 ? 0 : g.scalar / Float(kept)
        return [
            Tensor.build(logits.shape) { dx in
                ParallelLoops.forEachBlock(
                    rows: rows, rowsPerBlock: 1, elementsPerRow: classes
                ) { _, block in
                    for row in block {
                        let d = dx + row * classes
                        let target = targets[row]
                        guard target != ignoredTarget else {
                            d.initialize(repeating: 0, count: classes)
                            continue
                        }
                        let input = source + row * classes
                        let (maximum, inverse) = (maxima[row], inverseSums[row])
                        forEachVector(count: classes) { offset, lanes in
                            let x = load(input, offset, lanes: lanes, padding: -.infinity)
                            store(
                                (vectorExp(x - maximum) * inverse) * scale, d, offset, lanes: lanes)
                        }
                        d[target] -= scale
                    }
                }
            }
        ]
    }
}
