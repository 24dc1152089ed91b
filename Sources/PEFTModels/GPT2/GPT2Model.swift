import PEFTNN
import PEFTTensor

/// GPT-2's transformer body: token and position embeddings, the blocks, and the final layer norm.
public final class GPT2Model: Module {
    /// Token embeddings `[V, C]`, key `wte`.
    @Child(key: "wte") public var tokenEmbedding: any EmbeddingLayer
    /// Position embeddings `[n_positions, C]`, key `wpe`.
    @Child(key: "wpe") public var positionEmbedding: Embedding
    /// Dropout on the summed embeddings, key `drop`.
    @Child(key: "drop") public var embeddingDropout: Dropout
    /// The blocks, key `h`.
    @Children(key: "h") public var blocks: [GPT2Block]
    /// The final layer norm, key `ln_f`.
    @Child(key: "ln_f") public var finalNorm: LayerNorm
    /// Whether training recomputes each block's activations in backward instead of keeping them
    /// (gradient checkpointing); not with prefixes or a cache.
    public var checkpointsBlocks = false

    /// Creates a randomly initialised body, as Hugging Face initialises GPT-2.
    public init(configuration: GPT2Configuration, using generator: inout RandomGenerator) {
        let width = configuration.embeddingSize
        let range = configuration.initializerRange
        super.init()
        tokenEmbedding = Embedding(
            count: configuration.vocabularySize, dimension: width, standardDeviation: range,
            using: &generator)
        positionEmbedding = Embedding(
            count: configuration.maximumPositions, dimension: width, standardDeviation: range,
            using: &generator)
        embeddingDropout = Dropout(probability: configuration.embeddingDropout)
        blocks = (0..<configuration.layerCount).map { _ in
            GPT2Block(configuration: configuration, using: &generator)
        }
        finalNorm = LayerNorm(dimension: width, epsilon: configuration.layerNormEpsilon)
    }

    /// The final hidden states `[B, T, C]` for the given inputs.
    public func callAsFunction(_ inputs: DecoderInputs) -> Tensor {
        let embeddings =
            inputs.embeddings ?? tokenEmbedding(inputs.tokenIDs.flatMap { $0 }, shape: inputs.shape)
        let (batch, length) = (embeddings.shape[0], embeddings.shape[1])
        let prefixLength = inputs.prefixes?.first?.length ?? 0
        let cacheLength = inputs.cache?.length ?? 0
        let firstPosition = cacheLength > 0 ? cacheLength : prefixLength
        precondition(
            firstPosition + length <= positionEmbedding.count,
            "GPT2Model: positions up to \(firstPosition + length) exceed n_positions \(positionEmbedding.count)"
        )
        let packed = inputs.segmentIDs.map {
            PackedRows.check(inputs, model: "GPT2Model")
            return PackedRows(segmentIDs: $0, batch: batch, length: length)
        }
        let positions =
            packed.map {
                positionEmbedding($0.positions.flatMap { $0 }, shape: [batch, length])
            }
            ?? positionEmbedding(
                Array(firstPosition..<firstPosition + length), shape: [1, length])
        var hidden = embeddingDropout(embeddings + positions)
        var mask = inputs.attentionMask.map {
            paddingMask($0, prefixLength: prefixLength, batch: batch)
        }
        if let packed { mask = mask.map { combineMasks($0, packed.mask) } ?? packed.mask }
        let recomputes =
            checkpointsBlocks && isTraining && inputs.prefixes == nil && inputs.cache == nil
        for (index, block) in blocks.enumerated() {
            if recomputes {
                let dropouts = block.dropoutSnapshot()
                hidden = recomputedInBackward(hidden, beforeReplay: dropouts.restore) {
                    [mask] in block($0, mask: mask, prefix: nil, cache: nil)
                }
                continue
            }
            hidden = block(
                hidden, mask: mask, prefix: inputs.prefixes?[index],
                cache: inputs.cache?.layers[index])
        }
        return finalNorm(hidden)
    }
}
