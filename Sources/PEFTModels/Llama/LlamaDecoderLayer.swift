import PEFTNN
import PEFTTensor

/// A pre-norm Llama block: `h = x + attn(norm₁(x))`, then `h + mlp(norm₂(h))`.
public final class LlamaDecoderLayer: Module {
    /// Key `input_layernorm`.
    @Child(key: "input_layernorm") public var attentionNorm: RMSNorm
    /// Key `self_attn`.
    @Child(key: "self_attn") public var attention: LlamaAttention
    /// Key `post_attention_layernorm`.
    @Child(key: "post_attention_layernorm") public var feedForwardNorm: RMSNorm
    /// Key `mlp`; any layer, so that a method may wrap the whole feed-forward block.
    @Child(key: "mlp") public var mlp: any UnaryLayer

    /// Creates block `index` with Hugging Face's initialisation for `configuration`.
    public init(
        configuration: LlamaConfiguration, layer index: Int, using generator: inout RandomGenerator
    ) {
        super.init()
        let (width, epsilon) = (configuration.hiddenSize, configuration.rmsNormEpsilon)
        attentionNorm = RMSNorm(dimension: width, epsilon: epsilon)
        attention = LlamaAttention(configuration: configuration, layer: index, using: &generator)
        feedForwardNorm = RMSNorm(dimension: width, epsilon: epsilon)
        mlp = LlamaMLP(configuration: configuration, using: &generator)
    }

    /// Applies the block to `[B, T, C]`.
    public func callAsFunction(
        _ x: Tensor, rotary: (cos: Tensor, sin: Tensor), mask: Tensor?, prefix: AttentionPrefix?,
        cache: KeyValueCacheLayer?
    ) -> Tensor {
        let h =
            x
            + attention(attentionNorm(x), rotary: rotary, mask: mask, prefix: prefix, cache: cache)
        return h + mlp(feedForwardNorm(h))
    }
}
