import PEFTNN
import PEFTTensor

/// `x + dropout(SelfAttention(layer_norm(x)))`, T5's `layer.0`.
public final class T5LayerSelfAttention: Module {
    /// Key `SelfAttention`.
    @Child(key: "SelfAttention") public var attention: T5Attention
    /// Key `layer_norm`.
    @Child(key: "layer_norm") public var norm: RMSNorm
    /// Key `dropout`.
    @Child(key: "dropout") public var dropout: Dropout

    init(attention: T5Attention, configuration: T5Configuration) {
        super.init()
        self.attention = attention
        norm = RMSNorm(dimension: configuration.modelSize, epsilon: configuration.layerNormEpsilon)
        dropout = Dropout(probability: configuration.dropoutRate)
    }

    func callAsFunction(
        _ x: Tensor, mask: Tensor?, positionBias: Tensor, prefix: AttentionPrefix?,
        cache: KeyValueCacheLayer?
    ) -> Tensor {
        x
            + dropout(
                attention(
                    norm(x), mask: mask, positionBias: positionBias, prefix: prefix, cache: cache))
    }
}

/// `x + dropout(EncDecAttention(layer_norm(x), encoder))`, the decoder's `layer.1`.
public final class T5LayerCrossAttention: Module {
    /// Key `EncDecAttention`.
    @Child(key: "EncDecAttention") public var attention: T5Attention
    /// Key `layer_norm`.
    @Child(key: "layer_norm") public var norm: RMSNorm
    /// Key `dropout`.
    @Child(key: "dropout") public var dropout: Dropout

    init(attention: T5Attention, configuration: T5Configuration) {
        super.init()
        self.attention = attention
        norm = RMSNorm(dimension: configuration.modelSize, epsilon: configuration.layerNormEpsilon)
        dropout = Dropout(probability: configuration.dropoutRate)
    }

    func callAsFunction(
        _ x: Tensor, encoderOutput: Tensor, mask: Tensor?, cache: KeyValueCacheLayer?
    ) -> Tensor {
        x + dropout(attention(norm(x), context: encoderOutput, mask: mask, cache: cache))
    }
}

/// `x + dropout(DenseReluDense(layer_norm(x)))`, the last layer of every T5 block.
public final class T5LayerFF: Module {
    /// Key `DenseReluDense`: plain (`wi`, `wo`) or gated (`wi_0`, `wi_1`, `wo`).
    @Child(key: "DenseReluDense") public var feedForward: any UnaryLayer
    /// Key `layer_norm`.
    @Child(key: "layer_norm") public var norm: RMSNorm
    /// Key `dropout`.
    @Child(key: "dropout") public var dropout: Dropout

    init(configuration: T5Configuration, using generator: inout RandomGenerator) {
        let factor = configuration.initializerFactor
        let (width, inner) = (configuration.modelSize, configuration.feedForwardSize)
        func projection(_ inputs: Int, _ outputs: Int) -> Linear {
            Linear(
                weight: Tensor.normal(
                    [outputs, inputs], standardDeviation: factor / Float(inputs).squareRoot(),
                    using: &generator))
        }
        let activation = configuration.feedForwardActivation ?? .relu
        super.init()
        if configuration.isGated {
            feedForward = T5DenseGatedActDense(
                gate: projection(width, inner), expand: projection(width, inner),
                project: projection(inner, width),
                activation: activation, dropout: configuration.dropoutRate)
        } else {
            feedForward = T5DenseActDense(
                expand: projection(width, inner), project: projection(inner, width),
                activation: activation,
                dropout: configuration.dropoutRate)
        }
        norm = RMSNorm(dimension: width, epsilon: configuration.layerNormEpsilon)
        dropout = Dropout(probability: configuration.dropoutRate)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        x + dropout(feedForward(norm(x)))
    }
}

/// An encoder block: self-attention (`layer.0`) and feed-forward (`layer.1`).
public final class T5EncoderBlock: Module {
    /// Key `layer.0`.
    @Child(key: "layer.0") public var selfAttention: T5LayerSelfAttention
    /// Key `layer.1`.
    @Child(key: "layer.1") public var feedForward: T5LayerFF

    init(configuration: T5Configuration, isFirst: Bool, using generator: inout RandomGenerator) {
        super.init()
        selfAttention = T5LayerSelfAttention(
            attention: T5Attention(
                configuration: configuration, hasRelativeAttentionBias: isFirst,
                isBidirectional: true,
                isCausal: false, using: &generator),
            configuration: configuration)
        feedForward = T5LayerFF(configuration: configuration, using: &generator)
    }

    func callAsFunction(_ x: Tensor, mask: Tensor?, positionBias: Tensor) -> Tensor {
        feedForward(
            selfAttention(x, mask: mask, positionBias: positionBias, prefix: nil, cache: nil))
    }
}

/// A decoder block: causal self-attention (`layer.0`), cross-attention (`layer.1`), feed-forward
/// (`layer.2`).
public final class T5DecoderBlock: Module {
    /// Key `layer.0`.
    @Child(key: "layer.0") public var selfAttention: T5LayerSelfAttention
    /// Key `layer.1`.
    @Child(key: "layer.1") public var crossAttention: T5LayerCrossAttention
    /// Key `layer.2`.
    @Child(key: "layer.2") public var feedForward: T5LayerFF

    init(configuration: T5Configuration, isFirst: Bool, using generator: inout RandomGenerator) {
        super.init()
        selfAttention = T5LayerSelfAttention(
            attention: T5Attention(
                configuration: configuration, hasRelativeAttentionBias: isFirst,
                isBidirectional: false,
                isCausal: true, using: &generator),
            configuration: configuration)
        crossAttention = T5LayerCrossAttention(
            attention: T5Attention(
                configuration: configuration, hasRelativeAttentionBias: false,
                isBidirectional: true,
                isCausal: false, using: &generator),
            configuration: configuration)
        feedForward = T5LayerFF(configuration: configuration, using: &generator)
    }

    func callAsFunction(
        _ x: Tensor, mask: Tensor?, positionBias: Tensor, encoderOutput: Tensor,
        encoderMask: Tensor?,
        prefix: AttentionPrefix?, selfCache: KeyValueCacheLayer?, crossCache: KeyValueCacheLayer?
    ) -> Tensor {
        let attended = selfAttention(
            x, mask: mask, positionBias: positionBias, prefix: prefix, cache: selfCache)
        return feedForward(
            crossAttention(
                attended, encoderOutput: encoderOutput, mask: encoderMask, cache: crossCache))
    }
}
