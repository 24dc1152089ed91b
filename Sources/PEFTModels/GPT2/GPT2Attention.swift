import PEFTNN
import PEFTTensor

/// GPT-2's causal self-attention: one fused `c_attn` projection to queries, keys and values, and `c_proj`.
public final class GPT2Attention: Module {
    /// `[C] → [3C]`, key `c_attn`.
    @Child(key: "c_attn") public var queryKeyValue: any LinearLayer
    /// `[C] → [C]`, key `c_proj`.
    @Child(key: "c_proj") public var outputProjection: any LinearLayer
    /// Dropout on the attention probabilities (`attn_pdrop`), key `attn_dropout`.
    @Child(key: "attn_dropout") public var attentionDropout: Dropout
    /// Dropout on the output, key `resid_dropout`.
    @Child(key: "resid_dropout") public var residualDropout: Dropout
    /// The number of heads, H.
    public let heads: Int
    /// The factor on `Q·Kᵀ`.
    public let scale: Float

    /// Creates the layer from its projections; `dropout` applies to the output and `attentionDropout`
    /// to the attention probabilities, both only while training.
    public init(
        queryKeyValue: any LinearLayer, outputProjection: any LinearLayer, heads: Int, scale: Float,
        dropout: Float, attentionDropout: Float = 0
    ) {
        self.heads = heads
        self.scale = scale
        super.init()
        self.queryKeyValue = queryKeyValue
        self.outputProjection = outputProjection
        self.attentionDropout = Dropout(probability: attentionDropout)
        self.residualDropout = Dropout(probability: dropout)
    }

    /// Attends causally over `x` (`[B, T, C]`), after any prefix and cached positions.
    public func callAsFunction(
        _ x: Tensor, mask: Tensor?, prefix: AttentionPrefix?, cache: KeyValueCacheLayer?
    ) -> Tensor {
        let width = x.shape[2]
        let parts = queryKeyValue(x).split(sizes: [width, width, width], alongAxis: 2)
        let (keys, values) = gatherKeysAndValues(
            key: parts[1], value: parts[2], prefix: prefix, cache: cache)
        var combinedMask = causalMask(queries: x.shape[1], keys: keys.shape[1])
        if let mask { combinedMask = combineMasks(combinedMask, mask) }
        let attended = attention(
            query: parts[0], key: keys, value: values, heads: heads, scale: scale,
            mask: combinedMask,
            dropoutMask: attentionDropout.nextMask(shape: [
                x.shape[0], heads, x.shape[1], keys.shape[1],
            ]))
        return residualDropout(outputProjection(attended))
    }
}
