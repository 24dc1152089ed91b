import PEFTNN
import PEFTTensor

/// What a decoder (or a T5 encoder) reads in one forward pass.
///
/// Either token ids or input embeddings; an attention mask of ones (attend) and zeros (padding) over the
/// cached and current positions; per-layer key/value prefixes; a key/value cache for incremental
/// decoding. Prompt tuning passes embeddings, prefix tuning passes prefixes.
public struct DecoderInputs {
    /// `[B][T]` token ids; empty when ``embeddings`` is set.
    public var tokenIDs: [[Int]]
    /// `[B, T, C]` input embeddings used in place of the ids.
    public var embeddings: Tensor?
    /// `[B][T_past + T]`: 1 = attend, 0 = padding. `nil` attends everywhere.
    public var attentionMask: [[Int]]?
    /// One prefix per attention layer, placed before every other key and always attended.
    public var prefixes: [AttentionPrefix]?
    /// Past keys and values, extended in place.
    public var cache: KeyValueCache?
    /// `[B][T]`: which example of a packed row each token belongs to, or `nil` for one example per
    /// row. Tokens attend only to earlier tokens of their own example, and positions restart at 0
    /// where each example starts (see ``PackedRows``). Not combined with a cache or prefixes.
    public var segmentIDs: [[Int]]?

    /// Inputs from token ids.
    public init(
        tokenIDs: [[Int]], attentionMask: [[Int]]? = nil, prefixes: [AttentionPrefix]? = nil,
        cache: KeyValueCache? = nil
    ) {
        precondition(
            !tokenIDs.isEmpty
                && tokenIDs.allSatisfy { $0.count == tokenIDs[0].count && !$0.isEmpty },
            "DecoderInputs: token ids must be a non-empty rectangle")
        self.tokenIDs = tokenIDs
        self.attentionMask = attentionMask
        self.prefixes = prefixes
        self.cache = cache
    }

    /// Inputs from embeddings `[B, T, C]`.
    public init(
        embeddings: Tensor, attentionMask: [[Int]]? = nil, prefixes: [AttentionPrefix]? = nil,
        cache: KeyValueCache? = nil
    ) {
        precondition(
            embeddings.rank == 3,
            "DecoderInputs: embeddings must be [B, T, C], got \(embeddings.shape)")
        self.tokenIDs = []
        self.embeddings = embeddings
        self.attentionMask = attentionMask
        self.prefixes = prefixes
        self.cache = cache
    }

    /// `[B, T]`.
    public var shape: [Int] {
        embeddings.map { Array($0.shape.prefix(2)) } ?? [
            tokenIDs.count, tokenIDs.first?.count ?? 0,
        ]
    }
}

/// An additive `[B, 1, 1, P + T_mask]` mask: zeros for `prefixLength` always-visible prefix positions,
/// then zeros where `mask` is 1 and ``maskedScore`` where it is 0.
func paddingMask(_ mask: [[Int]], prefixLength: Int, batch: Int) -> Tensor {
    precondition(
        mask.count == batch, "attention mask has \(mask.count) rows for a batch of \(batch)")
    let rows = mask.map { [Int](repeating: 1, count: prefixLength) + $0 }
    return paddingMask(rows)
}
