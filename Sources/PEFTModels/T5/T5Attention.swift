import PEFTNN
import PEFTTensor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// T5's attention: unscaled scores, no biases, and in the first layer of each stack a learned bias per
/// relative-position bucket and head (`relative_attention_bias`), shared by the stack's other layers.
public final class T5Attention: MultiHeadAttention {
    /// `[buckets, H]`, present only in the first layer of a stack, key `relative_attention_bias`.
    @Child(key: "relative_attention_bias") public var relativeAttentionBias: Embedding?
    /// Whether positions are bucketed in both directions (encoder) or only backwards (decoder).
    public let isBidirectional: Bool
    /// The number of buckets.
    public let bucketCount: Int
    /// The distance beyond which positions share the last bucket.
    public let maximumDistance: Int

    /// Creates the layer with Hugging Face's T5 initialisation.
    public init(
        configuration: T5Configuration, hasRelativeAttentionBias: Bool, isBidirectional: Bool,
        isCausal: Bool,
        using generator: inout RandomGenerator
    ) {
        let (width, inner) = (
            configuration.modelSize, configuration.headCount * configuration.headSize
        )
        let factor = configuration.initializerFactor
        func projection(_ inputs: Int, _ outputs: Int, _ deviation: Float) -> Linear {
            Linear(
                weight: Tensor.normal(
                    [outputs, inputs], standardDeviation: deviation, using: &generator))
        }
        self.isBidirectional = isBidirectional
        bucketCount = configuration.relativeAttentionBucketCount
        maximumDistance = configuration.relativeAttentionMaximumDistance
        let query = projection(
            width, inner, factor / Float(width * configuration.headSize).squareRoot())
        let key = projection(width, inner, factor / Float(width).squareRoot())
        let value = projection(width, inner, factor / Float(width).squareRoot())
        let output = projection(inner, width, factor / Float(inner).squareRoot())
        super.init(
            query: query, key: key, value: value, output: output, heads: configuration.headCount,
            scale: 1,
            isCausal: isCausal, attentionDropout: configuration.dropoutRate)
        relativeAttentionBias =
            hasRelativeAttentionBias
            ? Embedding(
                count: bucketCount, dimension: configuration.headCount,
                standardDeviation: factor / Float(width).squareRoot(), using: &generator)
            : nil
    }

    /// The position bias `[1, H, queries, keys]`, with query `i` at absolute position `pastLength + i`.
    public func positionBias(queries: Int, keys: Int, pastLength: Int) -> Tensor {
        guard let relativeAttentionBias else {
            preconditionFailure("T5Attention: this layer holds no position bias")
        }
        var buckets = [Int](repeating: 0, count: queries * keys)
        for i in 0..<queries {
            for j in 0..<keys {
                buckets[i * keys + j] = bucket(relativePosition: j - (i + pastLength))
            }
        }
        let heads = relativeAttentionBias.dimension
        return relativeAttentionBias(buckets, shape: [queries, keys]).permuted([2, 0, 1])
            .reshaped(to: [1, heads, queries, keys])
    }

    /// T5's bucket for `key − query`: exact for small distances, logarithmic up to `maximumDistance`.
    func bucket(relativePosition: Int) -> Int {
        var buckets = bucketCount
        var result = 0
        var distance: Int
        if isBidirectional {
            buckets /= 2
            if relativePosition > 0 { result += buckets }
            distance = abs(relativePosition)
        } else {
            distance = -min(relativePosition, 0)
        }
        let exact = buckets / 2
        if distance < exact { return result + distance }
        // The reference's arithmetic: a float32 log over a float64 constant, truncated towards zero.
        let scaled =
            logf(Float(distance) / Float(exact))
            / Float(log(Double(maximumDistance) / Double(exact)))
            * Float(buckets - exact)
        return result + min(exact + Int(scaled), buckets - 1)
    }
}
