import PEFTNN
import PEFTTensor

/// A T5 encoder stack: shared embeddings, blocks with one relative position bias, final RMS norm.
public final class T5EncoderStack: Module {
    /// The token embeddings, shared with the model's `shared`, key `embed_tokens`.
    @Child(key: "embed_tokens") public var tokenEmbedding: Embedding
    /// Key `block`.
    @Children(key: "block") public var blocks: [T5EncoderBlock]
    /// Key `final_layer_norm`.
    @Child(key: "final_layer_norm") public var finalNorm: RMSNorm
    /// Key `dropout`.
    @Child(key: "dropout") public var dropout: Dropout

    init(
        configuration: T5Configuration, embedding: Embedding, using generator: inout RandomGenerator
    ) {
        super.init()
        tokenEmbedding = embedding
        blocks = (0..<configuration.encoderLayerCount).map {
            T5EncoderBlock(configuration: configuration, isFirst: $0 == 0, using: &generator)
        }
        finalNorm = RMSNorm(
            dimension: configuration.modelSize, epsilon: configuration.layerNormEpsilon)
        dropout = Dropout(probability: configuration.dropoutRate)
    }

    /// The encoder output `[B, T, C]`; `inputs` may carry embeddings (prompt tuning) and a padding mask.
    public func callAsFunction(_ inputs: DecoderInputs) -> Tensor {
        precondition(
            inputs.segmentIDs == nil, "T5Stack: packed rows (segment ids) are not supported")
        let embeddings =
            inputs.embeddings ?? tokenEmbedding(inputs.tokenIDs.flatMap { $0 }, shape: inputs.shape)
        let length = embeddings.shape[1]
        let mask = inputs.attentionMask.map {
            paddingMask($0, prefixLength: 0, batch: embeddings.shape[0])
        }
        guard let first = blocks.first else { return dropout(finalNorm(dropout(embeddings))) }
        let bias = first.selfAttention.attention.positionBias(
            queries: length, keys: length, pastLength: 0)
        var hidden = dropout(embeddings)
        for block in blocks { hidden = block(hidden, mask: mask, positionBias: bias) }
        return dropout(finalNorm(hidden))
    }
}

/// A T5 decoder stack: causal self-attention with its own position bias, cross-attention, feed-forward.
public final class T5DecoderStack: Module {
    /// The token embeddings, shared with the model's `shared`, key `embed_tokens`.
    @Child(key: "embed_tokens") public var tokenEmbedding: Embedding
    /// Key `block`.
    @Children(key: "block") public var blocks: [T5DecoderBlock]
    /// Key `final_layer_norm`.
    @Child(key: "final_layer_norm") public var finalNorm: RMSNorm
    /// Key `dropout`.
    @Child(key: "dropout") public var dropout: Dropout

    init(
        configuration: T5Configuration, embedding: Embedding, using generator: inout RandomGenerator
    ) {
        super.init()
        tokenEmbedding = embedding
        blocks = (0..<configuration.decoderLayers).map {
            T5DecoderBlock(configuration: configuration, isFirst: $0 == 0, using: &generator)
        }
        finalNorm = RMSNorm(
            dimension: configuration.modelSize, epsilon: configuration.layerNormEpsilon)
        dropout = Dropout(probability: configuration.dropoutRate)
    }

    /// The decoder output `[B, T, C]` given the encoder output and its padding mask.
    ///
    /// `inputs.cache` holds two layers per block: self-attention at `2i`, cross-attention at `2i + 1`.
    public func callAsFunction(
        _ inputs: DecoderInputs, encoderOutput: Tensor, encoderMask: [[Int]]?
    ) -> Tensor {
        precondition(
            inputs.segmentIDs == nil, "T5Stack: packed rows (segment ids) are not supported")
        let embeddings =
            inputs.embeddings ?? tokenEmbedding(inputs.tokenIDs.flatMap { $0 }, shape: inputs.shape)
        let (batch, length) = (embeddings.shape[0], embeddings.shape[1])
        let prefixLength = inputs.prefixes?.first?.length ?? 0
        let cacheLength = inputs.cache?.layers.first?.length ?? 0
        let pastLength = cacheLength > 0 ? cacheLength : prefixLength
        let mask = inputs.attentionMask.map {
            paddingMask($0, prefixLength: prefixLength, batch: batch)
        }
        let crossMask = encoderMask.map { paddingMask($0, prefixLength: 0, batch: batch) }
        var hidden = dropout(embeddings)
        guard let first = blocks.first else { return dropout(finalNorm(hidden)) }
        let bias = first.selfAttention.attention.positionBias(
            queries: length, keys: pastLength + length, pastLength: pastLength)
        for (index, block) in blocks.enumerated() {
            hidden = block(
                hidden, mask: mask, positionBias: bias, encoderOutput: encoderOutput,
                encoderMask: crossMask,
                prefix: inputs.prefixes?[index], selfCache: inputs.cache?.layers[2 * index],
                crossCache: inputs.cache?.layers[2 * index + 1])
        }
        return dropout(finalNorm(hidden))
    }
}
