import PEFTTensor

/// The next-token loss: position `t` predicts `labels[t + 1]`, labels of ``ignoredTarget`` are skipped,
/// and the mean runs over the predictions kept, as Hugging Face's causal-LM loss.
///
/// `logits` is `[B, T, V]` and `labels` is `[B][T]`.
public func causalLanguageModelingLoss(logits: Tensor, labels: [[Int]]) -> Tensor {
    crossEntropy(
        logits: logits,
        targets: causalTargets(labels, batch: logits.shape[0], length: logits.shape[1]))
}

/// The same loss from the final hidden states `[B, T, C]` and the output head's weight, computed a
/// block of rows at a time (``linearCrossEntropy(_:weight:targets:blockElements:)``) so that the
/// `[B, T, V]` logits never exist.
public func causalLanguageModelingLoss(
    hidden: Tensor, head: OutputHeadWeight, labels: [[Int]]
) -> Tensor {
    linearCrossEntropy(
        hidden, weight: head,
        targets: causalTargets(labels, batch: hidden.shape[0], length: hidden.shape[1]))
}

/// Position `t`'s target: `labels[t + 1]`, and none for the last position.
func causalTargets(_ labels: [[Int]], batch: Int, length: Int) -> [Int] {
    precondition(
        labels.count == batch && labels.allSatisfy { $0.count == length },
        "causalLanguageModelingLoss: labels are not [\(batch)][\(length)]")
    return labels.flatMap { row in
        (0..<length).map { $0 + 1 < length ? row[$0 + 1] : ignoredTarget }
    }
}
