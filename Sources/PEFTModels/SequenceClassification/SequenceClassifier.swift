import PEFTNN
import PEFTTensor

/// A model that maps a sequence to class logits `[B, labels]`: a decoder with a `score` head on its
/// last token, as `transformers`' `…ForSequenceClassification` builds it.
public protocol SequenceClassifier: AnyObject {
    /// Class logits `[B, labels]` for the inputs, pooled at each row's last real token.
    func classificationLogits(_ inputs: DecoderInputs) -> Tensor
    /// Input embeddings `[B, T, C]` for token ids.
    func embed(_ tokenIDs: [[Int]]) -> Tensor
    /// The number of classes.
    var labelCount: Int { get }
    /// The token id the pooling skips.
    var padTokenID: Int? { get }
}

/// The position each row pools, as `transformers` picks it: the last token that is not padding; with
/// no token ids (input embeddings, as prompt tuning passes) the last position; a row of padding
/// alone pools position 0. Without a `pad_token_id` the attention mask marks the padding, if given.
public func pooledPositions(of inputs: DecoderInputs, padTokenID: Int?) -> [Int] {
    let (batch, length) = (inputs.shape[0], inputs.shape[1])
    if inputs.tokenIDs.isEmpty { return [Int](repeating: length - 1, count: batch) }
    return inputs.tokenIDs.enumerated().map { row, ids in
        if let padTokenID {
            return ids.lastIndex { $0 != padTokenID } ?? 0
        }
        if let mask = inputs.attentionMask?[row] {
            let current = mask.suffix(length)
            return current.lastIndex(of: 1).map { $0 - current.startIndex } ?? 0
        }
        return length - 1
    }
}

/// Rows of `hidden` `[B, T, C]` at `positions` (one per row), differentiably: `[B, C]`.
public func gatherPositions(_ hidden: Tensor, _ positions: [Int]) -> Tensor {
    let (batch, length, width) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
    precondition(
        positions.count == batch && positions.allSatisfy { (0..<length).contains($0) },
        "gatherPositions: positions \(positions) for hidden states \(hidden.shape)")
    return gatherRows(
        hidden.reshaped(to: [batch * length, width]),
        indices: positions.enumerated().map { $0 * length + $1 })
}

/// The mean cross-entropy of class logits `[B, labels]` against one label per row.
public func sequenceClassificationLoss(logits: Tensor, labels: [Int]) -> Tensor {
    crossEntropy(logits: logits, targets: labels)
}
