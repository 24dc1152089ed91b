import PEFTTensor

/// Multi-head attention with separate query, key, value and output projections (T5's `q`, `k`, `v`,
/// `o`), for self- and cross-attention.
///
/// Options cover what the models and the PEFT methods need: a causal mask, an additive position bias,
/// dropout on the attention probabilities, a per-layer key/value prefix (prefix tuning) and a key/value
/// cache (incremental decoding).
open class MultiHeadAttention: Module {
    /// Projects the input to queries, key `q`.
    @Child(key: "q") public var query: any LinearLayer
    /// Projects the context to keys, key `k`.
    @Child(key: "k") public var key: any LinearLayer
    /// Projects the context to values, key `v`.
    @Child(key: "v") public var value: any LinearLayer
    /// Projects the heads' output back, key `o`.
    @Child(key: "o") public var output: any LinearLayer
    /// Dropout on the attention probabilities while training (T5's `dropout_rate` inside attention),
    /// key `attention_dropout`; it holds no parameters, so checkpoints do not name it.
    @Child(key: "attention_dropout") public var attentionDropout: Dropout
    /// The number of heads, H.
    public let heads: Int
    /// The factor on `Q·Kᵀ`: `1/√D` usually, 1 for T5 (folded into its initialisation).
    public let scale: Float
    /// Whether position `i` may attend only to keys up to `i`.
    public let isCausal: Bool

    /// Creates the layer from its projections; `attentionDropout` is the probability of dropping an
    /// attention weight while training.
    public init(
        query: any LinearLayer, key: any LinearLayer, value: any LinearLayer,
        output: any LinearLayer, heads: Int,
        scale: Float, isCausal: Bool, attentionDropout: Float = 0
    ) {
        precondition(
            query.outputFeatures % heads == 0,
            "MultiHeadAttention: \(query.outputFeatures) not divisible by \(heads) heads")
        self.heads = heads
        self.scale = scale
        self.isCausal = isCausal
        super.init()
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.attentionDropout = Dropout(probability: attentionDropout)
    }

    /// Creates bias-free projections from `modelWidth` to `heads × headSize` and back.
    public convenience init(
        modelWidth: Int, heads: Int, headSize: Int, scale: Float? = nil, isCausal: Bool,
        attentionDropout: Float = 0, using generator: inout RandomGenerator
    ) {
        let inner = heads * headSize
        func projection(_ inputs: Int, _ outputs: Int) -> Linear {
            Linear(inputFeatures: inputs, outputFeatures: outputs, bias: false, using: &generator)
        }
        self.init(
            query: projection(modelWidth, inner), key: projection(modelWidth, inner),
            value: projection(modelWidth, inner), output: projection(inner, modelWidth),
            heads: heads,
            scale: scale ?? 1 / Float(headSize).squareRoot(), isCausal: isCausal,
            attentionDropout: attentionDropout)
    }

    /// Attends from `x` (`[B, Tq, C]`) to `context` (`[B, Tk, C]`, `x` itself for self-attention).
    ///
    /// While training, the attention probabilities pass through ``attentionDropout``.
    ///
    /// - Parameters:
    ///   - x: the positions that attend, `[B, Tq, C]`.
    ///   - context: the positions attended to, `[B, Tk, C]`; `nil` for self-attention.
    ///   - mask: a constant additive mask broadcasting to `[B, H, Tq, Tk_total]` (padding).
    ///   - positionBias: a differentiable additive bias broadcasting to `[B, H, Tq, Tk_total]`.
    ///   - prefix: learned keys and values placed before all others.
    ///   - cache: past keys and values; for cross-attention, filled once and reused.
    public final func callAsFunction(
        _ x: Tensor, context: Tensor? = nil, mask: Tensor? = nil, positionBias: Tensor? = nil,
        prefix: AttentionPrefix? = nil, cache: KeyValueCacheLayer? = nil
    ) -> Tensor {
        let queries = query(x)
        let keysAndValues: (key: Tensor, value: Tensor)
        if context != nil, let cache, let cachedKey = cache.key, let cachedValue = cache.value {
            keysAndValues = (cachedKey, cachedValue)
        } else {
            let source = context ?? x
            keysAndValues = gatherKeysAndValues(
                key: key(source), value: value(source), prefix: prefix, cache: cache)
        }
        var combinedMask = mask
        if isCausal {
            let causal = causalMask(queries: x.shape[1], keys: keysAndValues.key.shape[1])
            combinedMask = combinedMask.map { combineMasks($0, causal) } ?? causal
        }
        let attended = attention(
            query: queries, key: keysAndValues.key, value: keysAndValues.value, heads: heads,
            scale: scale,
            mask: combinedMask, bias: positionBias,
            dropoutMask: attentionDropout.nextMask(shape: [
                x.shape[0], heads, x.shape[1], keysAndValues.key.shape[1],
            ]))
        return output(attended)
    }
}
