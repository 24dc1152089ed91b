import PEFTTensor

/// The next-token loss: position `t` predicts `labels[t + 1]`, labels of ``ignoredTarget`` are skipped,
/// and the mean runs over the predictions kept, as Hugging Face's causal-LM loss.
///
/// `logits` is `[B, T, V]` and `labels` is `[B][T]`.
public func causalLanguageModelingLoss(logits: Tensor, labels: [[Int]]) -> Tensor {
    let (batch, length) = (logits.shape[0], logits.shape[1])
    precondition(
        labels.count == batch && labels.allSatisfy { $0.count == length },
        "causalLanguageModelingLoss: labels are not [\(batch)][\(length)]")
    let targets = labels.flatMap { row in
        (0..<length).map { $0 + 1 < length ? row[$0 + 1] : ignoredTarget }
    }
    return crossEntropy(logits: logits, targets: targets)
}
