import Foundation
import PEFTNN
import PEFTTensor

/// A T5-family encoder-decoder with its language-model head.
///
/// T5 v1.0 ties `lm_head` to `shared` and scales decoder outputs by `d_model^-0.5`; T5 v1.1 and Flan-T5
/// have their own `lm_head` and no scaling. Parameter paths are Hugging Face's
/// (`encoder.block.0.layer.0.SelfAttention.q.weight`).
public final class T5ForConditionalGeneration: Module {
    /// The token embeddings shared by both stacks, key `shared`.
    @Child(key: "shared") public var sharedEmbedding: Embedding
    /// Key `encoder`.
    @Child(key: "encoder") public var encoder: T5EncoderStack
    /// Key `decoder`.
    @Child(key: "decoder") public var decoder: T5DecoderStack
    /// A separate `[V, C]` output matrix when untied, key `lm_head`.
    @Child(key: "lm_head") public var outputHead: Linear?
    /// The configuration the model was built from.
    public let configuration: T5Configuration

    /// Creates a randomly initialised model, as Hugging Face initialises T5; `seed` draws the weights
    /// and seeds the dropout layers (`reseedDropouts(seed:)`).
    public init(configuration: T5Configuration, seed: UInt64 = 0) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: seed)
        super.init()
        let factor = configuration.initializerFactor
        sharedEmbedding = Embedding(
            count: configuration.vocabularySize, dimension: configuration.modelSize,
            standardDeviation: factor,
            using: &generator)
        encoder = T5EncoderStack(
            configuration: configuration, embedding: sharedEmbedding, using: &generator)
        decoder = T5DecoderStack(
            configuration: configuration, embedding: sharedEmbedding, using: &generator)
        outputHead =
            configuration.tieWordEmbeddings
            ? nil
            : Linear(
                weight: Tensor.normal(
                    [configuration.vocabularySize, configuration.modelSize],
                    standardDeviation: factor,
                    using: &generator))
        // Every block's dropouts are built alike; seeding each from its path keeps their masks apart.
        reseedDropouts(seed: seed)
    }

    /// Loads a model from a Hugging Face folder (`config.json` and `model.safetensors` or shards).
    public convenience init(contentsOf folder: URL) throws {
        try self.init(checkpoint: CheckpointFolder(folder))
    }

    /// Loads a model from an opened checkpoint folder.
    public convenience init(checkpoint: CheckpointFolder) throws {
        guard checkpoint.modelType == "t5" else {
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: ["t5"])
        }
        var configuration = try checkpoint.decodeConfiguration(T5Configuration.self)
        try configuration.validate(file: checkpoint.configurationPath)
        let weights = try checkpoint.weights()
        // Transformers 5 writes `tie_word_embeddings: false` but may still omit `lm_head`; a head present
        // in the file is what decides.
        configuration.tieWordEmbeddings = !weights.tensorNames.contains("lm_head.weight")
        let (vocabulary, width) = (configuration.vocabularySize, configuration.modelSize)
        let last = configuration.encoderLayerCount - 1
        try checkpoint.check(
            weights,
            holds: [
                (["shared.weight"], [vocabulary, width], "vocab_size, d_model"),
                (
                    ["wi", "wi_0"].map {
                        "encoder.block.\(last).layer.1.DenseReluDense.\($0).weight"
                    },
                    [configuration.feedForwardSize, width], "num_layers, d_ff, d_model"
                ),
            ])
        self.init(configuration: configuration)
        do {
            try loadParameters(from: weights, strict: true) { key in
                switch key {
                case "encoder.embed_tokens.weight", "decoder.embed_tokens.weight",
                    "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight":
                    nil
                default: key
                }
            }
        } catch let error as ModuleTreeError {
            throw ModelLoadingError.checkpoint(file: checkpoint.url.path, reason: error.description)
        }
    }

    /// The encoder output `[B, T_enc, C]`.
    public func encode(_ inputs: DecoderInputs) -> Tensor { encoder(inputs) }

    /// Decoder logits `[B, T_dec, V]` given an encoder output and its padding mask.
    public func decode(_ inputs: DecoderInputs, encoderOutput: Tensor, encoderMask: [[Int]]?)
        -> Tensor
    {
        var hidden = decoder(inputs, encoderOutput: encoderOutput, encoderMask: encoderMask)
        if configuration.scalesDecoderOutputs {
            hidden = hidden * (1 / Float(configuration.modelSize).squareRoot())
        }
        if let outputHead { return outputHead(hidden) }
        return sharedEmbedding.tiedHeadLogits(hidden)
    }

    /// Decoder logits `[B, T_dec, V]` for encoder and decoder token ids.
    public func callAsFunction(
        inputIDs: [[Int]], attentionMask: [[Int]]? = nil, decoderInputIDs: [[Int]]
    ) -> Tensor {
        let encoded = encode(DecoderInputs(tokenIDs: inputIDs, attentionMask: attentionMask))
        return decode(
            DecoderInputs(tokenIDs: decoderInputIDs), encoderOutput: encoded,
            encoderMask: attentionMask)
    }

    /// An empty cache for incremental decoding: a self- and a cross-attention layer per decoder block.
    public func makeCache() -> KeyValueCache {
        KeyValueCache(layerCount: 2 * configuration.decoderLayers)
    }
}
