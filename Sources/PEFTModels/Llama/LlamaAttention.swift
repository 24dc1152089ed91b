import PEFTNN
import PEFTTensor

/// Llama-family self-attention: separate q/k/v/o projections, rotary positions, grouped-query heads,
/// and Qwen3's per-head query and key norms.
///
/// Keys and values keep their `num_key_value_heads` width in the cache and in prefixes; each is shared
/// by `heads / keyValueHeads` consecutive query heads, as `transformers`' `repeat_kv`.
public final class LlamaAttention: Module {
    /// `[C] → [H·D]`, key `q_proj`.
    @Child(key: "q_proj") public var queryProjection: any LinearLayer
    /// `[C] → [K·D]`, key `k_proj`.
    @Child(key: "k_proj") public var keyProjection: any LinearLayer
    /// `[C] → [K·D]`, key `v_proj`.
    @Child(key: "v_proj") public var valueProjection: any LinearLayer
    /// `[H·D] → [C]`, key `o_proj`.
    @Child(key: "o_proj") public var outputProjection: any LinearLayer
    /// Qwen3's RMSNorm over each query head `[D]`, key `q_norm`.
    @Child(key: "q_norm") public var queryNorm: RMSNorm?
    /// Qwen3's RMSNorm over each key head `[D]`, key `k_norm`.
    @Child(key: "k_norm") public var keyNorm: RMSNorm?
    /// Dropout on the attention probabilities while training (`attention_dropout`); no parameters.
    @Child(key: "attention_dropout") public var attentionDropout: Dropout
    /// The query heads, H.
    public let heads: Int
    /// The key/value heads, K (a divisor of H).
    public let keyValueHeads: Int
    /// The width of one head, D.
    public let headDimension: Int
    /// How many positions back a query sees (itself included), or `nil` for all of them.
    public let slidingWindow: Int?

    /// Creates the layer for block `index` of a model with `configuration`, with Hugging Face's
    /// initialisation (normal weights, zero biases, unit norms).
    public init(
        configuration: LlamaConfiguration, layer index: Int, using generator: inout RandomGenerator
    ) {
        heads = configuration.headCount
        keyValueHeads = configuration.keyValueHeadCount
        headDimension = configuration.headDimension
        slidingWindow = configuration.slidingWindow(forLayer: index)
        super.init()
        let width = configuration.hiddenSize
        func projection(_ inputs: Int, _ outputs: Int, bias: Bool) -> Linear {
            Linear(
                weight: Tensor.normal(
                    [outputs, inputs], standardDeviation: configuration.initializerRange,
                    using: &generator),
                bias: bias ? Tensor.zeros([outputs]) : nil)
        }
        let qkvBias = configuration.hasQueryKeyValueBias
        queryProjection = projection(width, heads * headDimension, bias: qkvBias)
        keyProjection = projection(width, keyValueHeads * headDimension, bias: qkvBias)
        valueProjection = projection(width, keyValueHeads * headDimension, bias: qkvBias)
        outputProjection = projection(
            heads * headDimension, width, bias: configuration.hasOutputBias)
        if configuration.hasQueryKeyNorm {
            queryNorm = RMSNorm(dimension: headDimension, epsilon: configuration.rmsNormEpsilon)
            keyNorm = RMSNorm(dimension: headDimension, epsilon: configuration.rmsNormEpsilon)
        }
        attentionDropout = Dropout(probability: configuration.attentionDropout)
    }

    /// Attends causally over `x` (`[B, T, C]`) after any prefix and cached positions.
    ///
    /// - Parameters:
    ///   - rotary: the `[1 or B, T, D/2]` cosine and sine tables of the new positions.
    ///   - mask: a constant additive padding mask broadcasting to `[B, H, T, T_keys]`.
    ///   - prefix: learned keys and values `[B or 1, P, K·D]`, used as they are (not rotated).
    ///   - cache: past keys and values `[B, T_past, K·D]`, extended in place.
    public func callAsFunction(
        _ x: Tensor, rotary: (cos: Tensor, sin: Tensor), mask: Tensor?, prefix: AttentionPrefix?,
        cache: KeyValueCacheLayer?
    ) -> Tensor {
        let (batch, length) = (x.shape[0], x.shape[1])
        var queries = queryProjection(x)
        var keys = keyProjection(x)
        if let queryNorm { queries = perHead(queryNorm, queries, heads: heads) }
        if let keyNorm { keys = perHead(keyNorm, keys, heads: keyValueHeads) }
        queries = rotaryEmbedding(queries, cos: rotary.cos, sin: rotary.sin, heads: heads)
        keys = rotaryEmbedding(keys, cos: rotary.cos, sin: rotary.sin, heads: keyValueHeads)
        let (allKeys, allValues) = gatherKeysAndValues(
            key: keys, value: valueProjection(x), prefix: prefix, cache: cache)
        let keyCount = allKeys.shape[1]
        var combinedMask = causalMask(queries: length, keys: keyCount, window: slidingWindow)
        if let mask { combinedMask = combineMasks(combinedMask, mask) }
        let attended = attention(
            query: queries, key: allKeys, value: allValues, heads: heads,
            keyValueHeads: keyValueHeads, scale: 1 / Float(headDimension).squareRoot(),
            mask: combinedMask,
            dropoutMask: attentionDropout.nextMask(shape: [batch, heads, length, keyCount]))
        return outputProjection(attended)
    }

    /// Applies `norm` to each head `[D]` of `x` (`[B, T, heads·D]`).
    private func perHead(_ norm: RMSNorm, _ x: Tensor, heads: Int) -> Tensor {
        let (batch, length) = (x.shape[0], x.shape[1])
        return norm(x.reshaped(to: [batch, length, heads, headDimension]))
            .reshaped(to: [batch, length, heads * headDimension])
    }
}
