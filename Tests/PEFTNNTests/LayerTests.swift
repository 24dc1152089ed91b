import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Layers")
struct LayerTests {
    @Test("Linear and Conv1D compute the same map from transposed weights")
    func linearAndConv1D() {
        let weight = randomTensor([3, 4], seed: 1)
        let bias = randomTensor([3], seed: 2)
        let x = randomTensor([2, 4], seed: 3)
        expectClose(
            Linear(weight: weight, bias: bias)(x),
            Conv1D(weight: weight.transposed(), bias: bias)(x),
            tolerance: 1e-6)
    }

    @Test("Feed-forward blocks compute their formulas")
    func feedForward() {
        var generator = RandomGenerator(seed: 4)
        func layer(_ i: Int, _ o: Int) -> Linear {
            Linear(inputFeatures: i, outputFeatures: o, bias: false, using: &generator)
        }
        let x = randomTensor([2, 4], seed: 5)
        let (wi, wo, gate) = (layer(4, 8), layer(8, 4), layer(4, 8))
        expectClose(
            T5DenseActDense(expand: wi, project: wo, activation: .relu)(x), wo(relu(wi(x))),
            tolerance: 1e-6)
        expectClose(
            T5DenseGatedActDense(gate: gate, expand: wi, project: wo, activation: .geluNew)(x),
            wo(geluTanh(gate(x)) * wi(x)), tolerance: 1e-6)
        expectClose(
            GPT2MLP(expand: wi, project: wo, activation: .gelu)(x), wo(gelu(wi(x))), tolerance: 1e-6
        )
        let sequential = Sequential([wi, ActivationLayer(.relu), wo])
        expectClose(sequential(x), wo(relu(wi(x))), tolerance: 1e-6)
        #expect(sequential.namedParameters().map(\.path) == ["0.weight", "2.weight"])
    }

    func makeAttention(causal: Bool) -> MultiHeadAttention {
        var generator = RandomGenerator(seed: 6)
        return MultiHeadAttention(
            modelWidth: 8, heads: 2, headSize: 4, isCausal: causal, using: &generator)
    }

    @Test("Causal self-attention with a key/value cache equals full recomputation, step by step")
    func cacheMatchesFull() {
        let attention = makeAttention(causal: true)
        let x = randomTensor([2, 5, 8], seed: 7)
        let full = attention(x)
        let cache = KeyValueCacheLayer()
        var steps: [Tensor] = [
            attention(x.narrowed(alongAxis: 1, start: 0, length: 2), cache: cache)
        ]
        for position in 2..<5 {
            steps.append(
                attention(x.narrowed(alongAxis: 1, start: position, length: 1), cache: cache))
        }
        #expect(cache.length == 5)
        expectClose(concatenate(steps, alongAxis: 1), full, tolerance: 1e-5)
    }

    @Test("A key/value prefix is attended to by every position and shared across the batch")
    func prefix() {
        let attention = makeAttention(causal: true)
        let x = randomTensor([2, 3, 8], seed: 8)
        let prefix = AttentionPrefix(
            key: randomTensor([1, 2, 8], seed: 9), value: randomTensor([1, 2, 8], seed: 10))
        let withPrefix = attention(x, prefix: prefix)
        #expect(maxAbsoluteDifference(withPrefix, attention(x)) > 1e-3)
        // The same prefix given per batch row gives the same result.
        let perRow = AttentionPrefix(
            key: prefix.key.expanded(to: [2, 2, 8]), value: prefix.value.expanded(to: [2, 2, 8]))
        expectClose(attention(x, prefix: perRow), withPrefix, tolerance: 1e-6)
        // With a cache, the prefix enters once and later steps still see it.
        let cache = KeyValueCacheLayer()
        let first = attention(
            x.narrowed(alongAxis: 1, start: 0, length: 2), prefix: prefix, cache: cache)
        let second = attention(
            x.narrowed(alongAxis: 1, start: 2, length: 1), prefix: prefix, cache: cache)
        #expect(cache.length == 5)
        expectClose(concatenate([first, second], alongAxis: 1), withPrefix, tolerance: 1e-5)
        // Gradients reach the prefix.
        let trainable = AttentionPrefix(
            key: prefix.key.requiringGradient(), value: prefix.value.requiringGradient())
        attention(x, prefix: trainable).sum().backward()
        #expect(trainable.key.gradient != nil && trainable.value.gradient != nil)
    }

    @Test("Cross-attention reads the context once into the cache and reuses it")
    func crossAttentionCache() {
        let attention = makeAttention(causal: false)
        let x = randomTensor([1, 2, 8], seed: 11)
        let context = randomTensor([1, 4, 8], seed: 12)
        let cache = KeyValueCacheLayer()
        let first = attention(x, context: context, cache: cache)
        let again = attention(x, context: context, cache: cache)
        #expect(cache.length == 4)
        expectClose(again, first, tolerance: 0)
        expectClose(first, attention(x, context: context), tolerance: 0)
    }

    @Test("A position bias changes attention and receives a gradient")
    func positionBias() {
        let attention = makeAttention(causal: false)
        let x = randomTensor([1, 3, 8], seed: 13)
        let bias = randomTensor([1, 2, 3, 3], seed: 14).requiringGradient()
        let biased = attention(x, positionBias: bias)
        #expect(maxAbsoluteDifference(biased, attention(x)) > 1e-3)
        biased.sum().backward()
        #expect(bias.gradient?.shape == [1, 2, 3, 3])
    }

    @Test(
        "Attention dropout drops probabilities only while training, masks drawn from its generator")
    func attentionDropout() {
        var generator = RandomGenerator(seed: 6)
        let layer = MultiHeadAttention(
            modelWidth: 8, heads: 2, headSize: 4, isCausal: true, attentionDropout: 0.5,
            using: &generator)
        let plain = makeAttention(causal: true)  // the same weights, no dropout
        let x = randomTensor([2, 3, 8], seed: 15)
        layer.attentionDropout.reseed(9)
        let trained = layer(x)
        // The mask is the next [B, H, Tq, Tk] draw of the layer's generator.
        var maskGenerator = RandomGenerator(seed: 9)
        let mask = dropoutMask([2, 2, 3, 3], probability: 0.5, using: &maskGenerator)
        let expected = layer.output(
            attention(
                query: layer.query(x), key: layer.key(x), value: layer.value(x), heads: 2,
                scale: layer.scale, mask: causalMask(queries: 3, keys: 3), dropoutMask: mask))
        expectClose(trained, expected, tolerance: 1e-6)
        #expect(maxAbsoluteDifference(trained, plain(x)) > 1e-2)
        // A prefix lengthens the keys, and the mask with them.
        let prefix = AttentionPrefix(
            key: randomTensor([1, 2, 8], seed: 16), value: randomTensor([1, 2, 8], seed: 17))
        #expect(maxAbsoluteDifference(layer(x, prefix: prefix), plain(x, prefix: prefix)) > 1e-2)
        layer.eval()
        #expect(layer(x).scalars == plain(x).scalars)
    }

    @Test("Activations parse Hugging Face names")
    func activationNames() {
        #expect(Activation(huggingFaceName: "gelu_new") == .geluNew)
        #expect(Activation(huggingFaceName: "relu") == .relu)
        #expect(Activation(huggingFaceName: "swish") == .silu)
        #expect(Activation(huggingFaceName: "nonsense") == nil)
    }
}
