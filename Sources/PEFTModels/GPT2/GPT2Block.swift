import PEFTNN
import PEFTTensor

/// A pre-norm GPT-2 block: attention, then the MLP, each added to the residual stream.
public final class GPT2Block: Module {
    /// Key `ln_1`.
    @Child(key: "ln_1") public var attentionNorm: LayerNorm
    /// Key `attn`.
    @Child(key: "attn") public var attention: GPT2Attention
    /// Key `ln_2`.
    @Child(key: "ln_2") public var mlpNorm: LayerNorm
    /// Key `mlp`.
    @Child(key: "mlp") public var mlp: any UnaryLayer

    /// Creates a block with Hugging Face's initialisation for `configuration`.
    public init(configuration: GPT2Configuration, using generator: inout RandomGenerator) {
        let width = configuration.embeddingSize
        let range = configuration.initializerRange
        // Residual projections start smaller, as GPT-2 prescribes: σ / √(2·layers).
        let projectionRange = range / (2 * Float(max(configuration.layerCount, 1))).squareRoot()
        super.init()
        attentionNorm = LayerNorm(dimension: width, epsilon: configuration.layerNormEpsilon)
        attention = GPT2Attention(
            queryKeyValue: Conv1D(
                inputFeatures: width, outputFeatures: 3 * width, standardDeviation: range,
                using: &generator),
            outputProjection: Conv1D(
                inputFeatures: width, outputFeatures: width, standardDeviation: projectionRange,
                using: &generator),
            heads: configuration.headCount,
            scale: configuration.scaleAttentionWeights
                ? 1 / Float(width / configuration.headCount).squareRoot() : 1,
            dropout: configuration.residualDropout,
            attentionDropout: configuration.attentionDropout)
        mlpNorm = LayerNorm(dimension: width, epsilon: configuration.layerNormEpsilon)
        mlp = GPT2MLP(
            expand: Conv1D(
                inputFeatures: width, outputFeatures: configuration.feedForwardSize,
                standardDeviation: range,
                using: &generator),
            project: Conv1D(
                inputFeatures: configuration.feedForwardSize, outputFeatures: width,
                standardDeviation: projectionRange, using: &generator),
            activation: Activation(huggingFaceName: configuration.activationFunction) ?? .geluNew,
            dropout: configuration.residualDropout)
    }

    /// Applies the block to `[B, T, C]`.
    public func callAsFunction(
        _ x: Tensor, mask: Tensor?, prefix: AttentionPrefix?, cache: KeyValueCacheLayer?
    ) -> Tensor {
        let h = x + attention(attentionNorm(x), mask: mask, prefix: prefix, cache: cache)
        return h + mlp(mlpNorm(h))
    }
}
