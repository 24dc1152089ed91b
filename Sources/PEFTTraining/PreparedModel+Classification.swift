// Training and evaluating a sequence classifier: cross-entropy on the pooled logits, accuracy.

extension PreparedModel {
    /// Whether the model is a sequence classifier (trained with cross-entropy on class labels).
    public var isClassifier: Bool { classifier != nil }

    /// The mean cross-entropy of a classification batch and its count of real tokens.
    func classificationLoss(
        _ classifier: any SequenceClassifier, _ examples: [TextExample], tokenizer: any Tokenizer,
        maximumLength: Int
    ) -> (loss: Tensor, tokens: Int, lossTerms: Int) {
        let batch = SequenceClassificationBatch(
            examples: examples, tokenizer: tokenizer, padTokenID: classifier.padTokenID,
            maximumLength: maximumLength)
        let logits = classifier.classificationLogits(
            DecoderInputs(tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask))
        return (
            sequenceClassificationLoss(logits: logits, labels: batch.labels), batch.tokenCount,
            examples.count
        )
    }

    /// Accuracy and mean loss on `examples`, in batches of 32, without gradients; leaves the model
    /// in evaluation mode.
    public func classificationAccuracy(
        on examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int
    ) -> ClassificationAccuracy {
        guard let classifier else {
            preconditionFailure("PreparedModel: \(type(of: base)) is not a sequence classifier")
        }
        train(false)
        return withoutGradients {
            var result = ClassificationAccuracy()
            var totalLoss: Double = 0
            for chunk in examples.chunked(into: 32) {
                let batch = SequenceClassificationBatch(
                    examples: chunk, tokenizer: tokenizer, padTokenID: classifier.padTokenID,
                    maximumLength: maximumLength)
                let logits = classifier.classificationLogits(
                    DecoderInputs(tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask))
                let scores = logits.scalars
                let width = classifier.labelCount
                for (row, label) in batch.labels.enumerated() {
                    let rowScores = scores[(row * width)..<((row + 1) * width)]
                    let predicted = rowScores.indices.max { rowScores[$0] < rowScores[$1] }!
                    if predicted - row * width == label { result.correctCount += 1 }
                }
                result.count += chunk.count
                let loss = sequenceClassificationLoss(logits: logits, labels: batch.labels)
                totalLoss += Double(loss.scalar) * Double(chunk.count)
            }
            result.meanLoss = result.count > 0 ? Float(totalLoss / Double(result.count)) : nil
            return result
        }
    }
}

/// Held-out accuracy of a sequence classifier: the share of rows whose highest logit is the label.
public struct ClassificationAccuracy: Sendable {
    /// Rows predicted right.
    public var correctCount = 0
    /// Rows evaluated.
    public var count = 0
    /// The mean cross-entropy over the rows; nil for none.
    public var meanLoss: Float?

    /// `correctCount / count`, 0 for no rows.
    public var accuracy: Double { count == 0 ? 0 : Double(correctCount) / Double(count) }

    /// `"87.5% (175/200)"`.
    public var formatted: String {
        "\((accuracy * 1000).rounded() / 10)% (\(correctCount)/\(count))"
    }
}
