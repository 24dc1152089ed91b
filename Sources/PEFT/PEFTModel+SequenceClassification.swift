import PEFTModels
import PEFTNN
import PEFTTensor

extension PEFTModel: SequenceClassifier where Base: SequenceClassifier {
    /// Class logits `[B, labels]`, with the active adapter's prefixes or virtual tokens in place.
    ///
    /// Virtual tokens reach the base as input embeddings, so it pools the last position, as
    /// `transformers` does for Hugging Face PEFT's prompt tuning.
    public func classificationLogits(_ inputs: DecoderInputs) -> Tensor {
        guard let encoder = activePromptEncoder else { return base.classificationLogits(inputs) }
        switch encoder.kind {
        case .prefixes:
            var modified = inputs
            modified.prefixes = prefixes(encoder)
            return base.classificationLogits(modified)
        case .virtualTokens:
            let embeddings = inputs.embeddings ?? base.embed(inputs.tokenIDs)
            return base.classificationLogits(
                prependingVirtualTokens(encoder, to: inputs, embeddings: embeddings))
        }
    }

    /// The base's token embeddings.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor { base.embed(tokenIDs) }

    /// The base's number of classes.
    public var labelCount: Int { base.labelCount }

    /// The base's `pad_token_id`.
    public var padTokenID: Int? { base.padTokenID }

    /// Class logits for a batch of token ids.
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        classificationLogits(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }
}
