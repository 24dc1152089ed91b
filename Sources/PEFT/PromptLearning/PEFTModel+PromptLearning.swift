import PEFTModels
import PEFTNN
import PEFTTensor

extension PEFTModel {
    /// The active encoder's virtual tokens `[B, P, C]` for a batch of `batch` rows.
    func virtualTokens(_ encoder: any PromptLearningEncoder, batch: Int) -> Tensor {
        let count = encoder.virtualTokenCount
        let table = encoder().narrowed(alongAxis: 0, start: 0, length: count)
        return table.reshaped(to: [1, count, table.shape[1]]).expanded(to: [
            batch, count, table.shape[1],
        ])
    }

    /// The active encoder's per-layer prefixes, in the family's layout.
    func prefixes(_ encoder: any PromptLearningEncoder) -> [AttentionPrefix] {
        guard let family else {
            preconditionFailure("PEFTModel: a prefix adapter exists only on an AdaptableModel")
        }
        return family.attentionPrefixes(fromPrefixTable: encoder())
    }

    /// `mask` with ones in front for the active adapter's virtual tokens.
    func extendedMask(_ mask: [[Int]]?) -> [[Int]]? {
        guard let mask, let encoder = activePromptEncoder, encoder.kind == .virtualTokens else {
            return mask
        }
        return mask.map { [Int](repeating: 1, count: encoder.virtualTokenCount) + $0 }
    }

    /// `embeddings` with the active adapter's virtual tokens in front, and the mask extended to them.
    func prependingVirtualTokens(
        _ encoder: any PromptLearningEncoder, to inputs: DecoderInputs, embeddings: Tensor
    ) -> DecoderInputs {
        var modified = inputs
        modified.embeddings = concatenate(
            [virtualTokens(encoder, batch: embeddings.shape[0]), embeddings], alongAxis: 1)
        modified.tokenIDs = []
        modified.attentionMask = extendedMask(inputs.attentionMask)
        return modified
    }
}

extension PEFTModel: CausalLanguageModel where Base: CausalLanguageModel {
    /// The base's own loss (blocked over the head where the base allows it) when no virtual tokens
    /// or prefixes come in front; otherwise the loss of ``logits(_:)``.
    public func languageModelingLoss(_ inputs: DecoderInputs, labels: [[Int]]) -> Tensor {
        guard activePromptEncoder == nil else {
            return causalLanguageModelingLoss(logits: logits(inputs), labels: labels)
        }
        return base.languageModelingLoss(inputs, labels: labels)
    }

    /// Logits `[B, T, V]` for the real input positions, with the active adapter's virtual tokens or
    /// prefixes in place; the virtual positions' logits are left out.
    public func logits(_ inputs: DecoderInputs) -> Tensor {
        guard let encoder = activePromptEncoder else { return base.logits(inputs) }
        switch encoder.kind {
        case .prefixes:
            var modified = inputs
            modified.prefixes = prefixes(encoder)
            return base.logits(modified)
        case .virtualTokens:
            // With a filled cache the virtual tokens are already among the past positions.
            if let cache = inputs.cache, cache.length > 0 { return base.logits(inputs) }
            let embeddings = inputs.embeddings ?? base.embed(inputs.tokenIDs)
            let logits = base.logits(
                prependingVirtualTokens(encoder, to: inputs, embeddings: embeddings))
            return logits.narrowed(
                alongAxis: 1, start: encoder.virtualTokenCount, length: embeddings.shape[1])
        }
    }

    /// Logits for a batch of token ids.
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        logits(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }

    /// The base's token embeddings.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor { base.embed(tokenIDs) }

    /// An empty cache for the base model.
    public func makeCache() -> KeyValueCache { base.makeCache() }

    /// The base's limit, less the virtual tokens or prefix positions the adapter adds.
    public var maximumLength: Int {
        base.maximumLength - (activePromptEncoder?.virtualTokenCount ?? 0)
    }

    /// The base's end-of-sequence token.
    public var endOfSequenceTokenID: Int? { base.endOfSequenceTokenID }

    /// The base's end-of-sequence tokens.
    public var endOfSequenceTokenIDs: Set<Int> { base.endOfSequenceTokenIDs }
}

extension PEFTModel: Seq2SeqLanguageModel where Base: Seq2SeqLanguageModel {
    /// The encoder output, with the active adapter's virtual tokens in front of the input (prompt
    /// tuning, P-tuning).
    public func encode(_ inputs: DecoderInputs) -> Tensor {
        guard let encoder = activePromptEncoder, encoder.kind == .virtualTokens else {
            return base.encode(inputs)
        }
        let embeddings = inputs.embeddings ?? base.embed(inputs.tokenIDs)
        return base.encode(prependingVirtualTokens(encoder, to: inputs, embeddings: embeddings))
    }

    /// The encoder's input embeddings.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor { base.embed(tokenIDs) }

    /// Decoder logits, with the active adapter's prefixes in the decoder's self-attention (prefix
    /// tuning); `encoderMask` is the input's own mask, without virtual tokens.
    public func decode(_ inputs: DecoderInputs, encoderOutput: Tensor, encoderMask: [[Int]]?)
        -> Tensor
    {
        guard let encoder = activePromptEncoder else {
            return base.decode(inputs, encoderOutput: encoderOutput, encoderMask: encoderMask)
        }
        switch encoder.kind {
        case .virtualTokens:
            return base.decode(
                inputs, encoderOutput: encoderOutput, encoderMask: extendedMask(encoderMask))
        case .prefixes:
            var modified = inputs
            modified.prefixes = prefixes(encoder)
            return base.decode(modified, encoderOutput: encoderOutput, encoderMask: encoderMask)
        }
    }

    /// Decoder logits for encoder and decoder token ids.
    public func callAsFunction(
        inputIDs: [[Int]], attentionMask: [[Int]]? = nil, decoderInputIDs: [[Int]]
    ) -> Tensor {
        let encoded = encode(DecoderInputs(tokenIDs: inputIDs, attentionMask: attentionMask))
        return decode(
            DecoderInputs(tokenIDs: decoderInputIDs), encoderOutput: encoded,
            encoderMask: attentionMask)
    }

    /// An empty cache for the base model.
    public func makeCache() -> KeyValueCache { base.makeCache() }

    /// The base's decoder start token.
    public var decoderStartTokenID: Int { base.decoderStartTokenID }

    /// The base's end-of-sequence token.
    public var endOfSequenceTokenID: Int? { base.endOfSequenceTokenID }

    /// The base's end-of-sequence tokens.
    public var endOfSequenceTokenIDs: Set<Int> { base.endOfSequenceTokenIDs }
}
