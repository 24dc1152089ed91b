import PEFTModels
import PEFTNN
import PEFTTensor

extension PEFTModel: CausalLanguageModel, Seq2SeqLanguageModel {
    var causalBase: any CausalLanguageModel {
        guard let model = base as? any CausalLanguageModel else {
            preconditionFailure(
                "PEFTModel: \(type(of: base)) is not a decoder-only model; use encode/decode")
        }
        return model
    }

    var seq2SeqBase: any Seq2SeqLanguageModel {
        guard let model = base as? any Seq2SeqLanguageModel else {
            preconditionFailure(
                "PEFTModel: \(type(of: base)) is not an encoder-decoder model; use logits")
        }
        return model
    }

    /// The active encoder's virtual tokens `[B, P, C]` for a batch of `batch` rows.
    func virtualTokens(_ encoder: any PromptLearningEncoder, batch: Int) -> Tensor {
        let count = encoder.virtualTokenCount
        let table = encoder().narrowed(alongAxis: 0, start: 0, length: count)
        return table.reshaped(to: [1, count, table.shape[1]]).expanded(to: [
            batch, count, table.shape[1],
        ])
    }

    /// The active encoder's per-layer prefixes.
    func prefixes(_ encoder: any PromptLearningEncoder, isEncoderDecoder: Bool) -> [AttentionPrefix]
    {
        let shape = (base as! any PromptLearningHost).promptShape
        return PrefixTuning.prefixes(
            from: encoder(), layers: shape.layers, width: shape.width,
            isEncoderDecoder: isEncoderDecoder)
    }

    /// Logits `[B, T, V]` of a decoder-only base for the real input positions, with the active
    /// adapter's virtual tokens or prefixes in place; the virtual positions' logits are left out.
    public func logits(_ inputs: DecoderInputs) -> Tensor {
        let model = causalBase
        guard let encoder = activePromptEncoder else { return model.logits(inputs) }
        var modified = inputs
        switch encoder.kind {
        case .prefixes:
            modified.prefixes = prefixes(encoder, isEncoderDecoder: false)
            return model.logits(modified)
        case .virtualTokens:
            // With a filled cache the virtual tokens are already among the past positions.
            if let cache = inputs.cache, cache.length > 0 { return model.logits(inputs) }
            let embeddings = inputs.embeddings ?? model.embed(inputs.tokenIDs)
            let count = encoder.virtualTokenCount
            modified.embeddings = concatenate(
                [virtualTokens(encoder, batch: embeddings.shape[0]), embeddings], alongAxis: 1)
            modified.tokenIDs = []
            modified.attentionMask = inputs.attentionMask.map {
                $0.map { [Int](repeating: 1, count: count) + $0 }
            }
            let logits = model.logits(modified)
            return logits.narrowed(alongAxis: 1, start: count, length: embeddings.shape[1])
        }
    }

    /// Logits for a batch of token ids (decoder-only base).
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        logits(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }

    /// The base's token embeddings.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor { causalBase.embed(tokenIDs) }

    /// An empty cache for the base model.
    public func makeCache() -> KeyValueCache {
        if let model = base as? any CausalLanguageModel { return model.makeCache() }
        return seq2SeqBase.makeCache()
    }

    /// The base's limit, less the virtual tokens or prefix positions the adapter adds.
    public var maximumLength: Int {
        causalBase.maximumLength - (activePromptEncoder?.virtualTokenCount ?? 0)
    }

    /// The base's end-of-sequence token.
    public var endOfSequenceTokenID: Int? {
        (base as? any CausalLanguageModel)?.endOfSequenceTokenID
            ?? (base as? any Seq2SeqLanguageModel)?
            .endOfSequenceTokenID
    }

    /// The encoder output of an encoder-decoder base, with the active adapter's virtual tokens in front
    /// of the input (prompt tuning, P-tuning).
    public func encode(_ inputs: DecoderInputs) -> Tensor {
        let model = seq2SeqBase
        guard let encoder = activePromptEncoder, encoder.kind == .virtualTokens else {
            return model.encode(inputs)
        }
        let embeddings =
            inputs.embeddings
            ?? (base as! T5ForConditionalGeneration).sharedEmbedding(
                inputs.tokenIDs.flatMap { $0 }, shape: inputs.shape)
        var modified = inputs
        modified.embeddings = concatenate(
            [virtualTokens(encoder, batch: embeddings.shape[0]), embeddings], alongAxis: 1)
        modified.tokenIDs = []
        modified.attentionMask = extendedEncoderMask(inputs.attentionMask)
        return model.encode(modified)
    }

    /// Decoder logits of an encoder-decoder base, with the active adapter's prefixes in the decoder's
    /// self-attention (prefix tuning); `encoderMask` is the input's own mask, without virtual tokens.
    public func decode(_ inputs: DecoderInputs, encoderOutput: Tensor, encoderMask: [[Int]]?)
        -> Tensor
    {
        let model = seq2SeqBase
        guard let encoder = activePromptEncoder else {
            return model.decode(inputs, encoderOutput: encoderOutput, encoderMask: encoderMask)
        }
        switch encoder.kind {
        case .virtualTokens:
            return model.decode(
                inputs, encoderOutput: encoderOutput, encoderMask: extendedEncoderMask(encoderMask))
        case .prefixes:
            var modified = inputs
            modified.prefixes = prefixes(encoder, isEncoderDecoder: true)
            return model.decode(modified, encoderOutput: encoderOutput, encoderMask: encoderMask)
        }
    }

    func extendedEncoderMask(_ mask: [[Int]]?) -> [[Int]]? {
        guard let mask, let encoder = activePromptEncoder, encoder.kind == .virtualTokens else {
            return mask
        }
        return mask.map { [Int](repeating: 1, count: encoder.virtualTokenCount) + $0 }
    }

    /// Decoder logits for encoder and decoder token ids (encoder-decoder base).
    public func callAsFunction(
        inputIDs: [[Int]], attentionMask: [[Int]]? = nil, decoderInputIDs: [[Int]]
    ) -> Tensor {
        let encoded = encode(DecoderInputs(tokenIDs: inputIDs, attentionMask: attentionMask))
        return decode(
            DecoderInputs(tokenIDs: decoderInputIDs), encoderOutput: encoded,
            encoderMask: attentionMask)
    }

    /// The base's decoder start token.
    public var decoderStartTokenID: Int { seq2SeqBase.decoderStartTokenID }
}
