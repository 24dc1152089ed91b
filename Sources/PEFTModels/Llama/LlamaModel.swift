import PEFTNN
import PEFTTensor

/// The Llama-family body: token embeddings, the decoder layers and the final RMSNorm.
public final class LlamaModel: Module {
    /// Token embeddings `[V, C]`, key `embed_tokens`.
    @Child(key: "embed_tokens") public var tokenEmbedding: any EmbeddingLayer
    /// The blocks, key `layers`.
    @Children(key: "layers") public var layers: [LlamaDecoderLayer]
    /// The final norm, key `norm`.
    @Child(key: "norm") public var finalNorm: RMSNorm
    /// The rotary frequencies every layer shares (computed, not stored in checkpoints).
    public let rotary: RotaryEmbedding
    /// Whether training recomputes each layer's activations in backward instead of keeping them
    /// (gradient checkpointing); not with prefixes or a cache.
    public var checkpointsBlocks = false

    /// Creates a randomly initialised body, as Hugging Face initialises it.
    public init(configuration: LlamaConfiguration, using generator: inout RandomGenerator) {
        rotary = RotaryEmbedding(
            parameters: configuration.rope, headDimension: configuration.headDimension,
            maximumPositions: configuration.maximumPositions)
        super.init()
        tokenEmbedding = Embedding(
            count: configuration.vocabularySize, dimension: configuration.hiddenSize,
            standardDeviation: configuration.initializerRange, using: &generator)
        layers = (0..<configuration.layerCount).map {
            LlamaDecoderLayer(configuration: configuration, layer: $0, using: &generator)
        }
        finalNorm = RMSNorm(
            dimension: configuration.hiddenSize, epsilon: configuration.rmsNormEpsilon)
    }

    /// The final hidden states `[B, T, C]` for the given inputs.
    ///
    /// Positions run on from the cache (or the prefix) whatever the padding, as a plain `transformers`
    /// forward call numbers them: `arange(T) + past`.
    public func callAsFunction(_ inputs: DecoderInputs) -> Tensor {
        let embeddings =
            inputs.embeddings ?? tokenEmbedding(inputs.tokenIDs.flatMap { $0 }, shape: inputs.shape)
        let (batch, length) = (embeddings.shape[0], embeddings.shape[1])
        let prefixLength = inputs.prefixes?.first?.length ?? 0
        let cacheLength = inputs.cache?.length ?? 0
        let firstPosition = cacheLength > 0 ? cacheLength : prefixLength
        let packed = inputs.segmentIDs.map {
            PackedRows.check(inputs, model: "LlamaModel")
            return PackedRows(segmentIDs: $0, batch: batch, length: length)
        }
        let tables =
            packed.map { rotary.tables(positionRows: $0.positions) }
            ?? rotary.tables(positions: firstPosition..<firstPosition + length)
        var mask = inputs.attentionMask.map {
            paddingMask($0, prefixLength: prefixLength, batch: batch)
        }
        if let packed { mask = mask.map { combineMasks($0, packed.mask) } ?? packed.mask }
        var hidden = embeddings
        let recomputes =
            checkpointsBlocks && isTraining && inputs.prefixes == nil && inputs.cache == nil
        for (index, layer) in layers.enumerated() {
            if recomputes {
                let dropouts = layer.dropoutSnapshot()
                hidden = recomputedInBackward(hidden, beforeReplay: dropouts.restore) {
                    [mask] in layer($0, rotary: tables, mask: mask, prefix: nil, cache: nil)
                }
                continue
            }
            hidden = layer(
                hidden, rotary: tables, mask: mask, prefix: inputs.prefixes?[index],
                cache: inputs.cache?.layers[index])
        }
        return finalNorm(hidden)
    }
}
