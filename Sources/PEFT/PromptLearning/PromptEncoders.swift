import PEFTNN
import PEFTTensor

/// Prompt tuning's encoder: a table of virtual-token embeddings, `[P·submodules, C]`.
public final class PromptEmbedding: Module, PromptLearningEncoder {
    /// The table, key `embedding`.
    @Child(key: "embedding") public var embedding: Embedding
    /// P.
    public let virtualTokenCount: Int
    /// Virtual tokens in front of the input.
    public var kind: PromptLearningKind { .virtualTokens }
    /// The table is all there is.
    public var hasTrainingState: Bool { false }

    /// Wraps an initial table.
    public init(table: Tensor, virtualTokenCount: Int) {
        self.virtualTokenCount = virtualTokenCount
        super.init()
        embedding = Embedding(weight: table)
    }

    /// The table.
    public func callAsFunction() -> Tensor { embedding.weight }

    /// Replaces the table.
    public func loadOutput(_ values: Tensor) throws { embedding.$weight.assign(values) }
}

/// P-tuning's encoder: a table passed through an MLP, or a bidirectional LSTM and an MLP, while
/// training; after loading a saved adapter for inference, just the table of final embeddings.
public final class PTuningEncoder: Module, PromptLearningEncoder {
    /// The input table, key `embedding`.
    @Child(key: "embedding") public var embedding: Embedding
    /// The LSTM, key `lstm_head`, for the LSTM encoder.
    @Child(key: "lstm_head") public var lstm: LSTM?
    /// The MLP, key `mlp_head`; `nil` once only the final table remains.
    @Child(key: "mlp_head") public var mlp: Sequential?
    /// P.
    public let virtualTokenCount: Int
    /// Virtual tokens in front of the input.
    public var kind: PromptLearningKind { .virtualTokens }
    /// Whether the MLP (and LSTM) still exist.
    public var hasTrainingState: Bool { mlp != nil }

    /// Creates the encoder as PEFT's `PromptEncoder` does, for `rows` virtual tokens of width `width`.
    public init(
        rows: Int, width: Int, virtualTokenCount: Int, configuration: PTuningConfiguration,
        using generator: inout RandomGenerator
    ) {
        self.virtualTokenCount = virtualTokenCount
        let hidden = configuration.encoderHiddenSize ?? width
        super.init()
        embedding = Embedding(count: rows, dimension: width, using: &generator)
        func layer(_ inputs: Int, _ outputs: Int) -> Linear {
            Linear(inputFeatures: inputs, outputFeatures: outputs, using: &generator)
        }
        switch configuration.encoderType {
        case .mlp:
            mlp = Sequential([
                layer(width, hidden), ActivationLayer(.relu), layer(hidden, hidden),
                ActivationLayer(.relu),
                layer(hidden, width),
            ])
        case .lstm:
            lstm = LSTM(
                inputSize: width, hiddenSize: hidden, layerCount: configuration.encoderLayerCount,
                isBidirectional: true, dropout: configuration.encoderDropout, using: &generator)
            mlp = Sequential([
                layer(2 * hidden, 2 * hidden), ActivationLayer(.relu), layer(2 * hidden, width),
            ])
        }
    }

    /// The virtual-token embeddings.
    public func callAsFunction() -> Tensor {
        guard let mlp else { return embedding.weight }
        return mlp(lstm.map { $0(embedding.weight) } ?? embedding.weight)
    }

    /// Keeps only the final embeddings, as an adapter loaded for inference does.
    public func loadOutput(_ values: Tensor) throws {
        embedding = Embedding(weight: values)
        lstm = nil
        mlp = nil
    }
}

/// Prefix tuning's encoder: `[P, L·2·C]` keys and values, from a table or, while training with
/// `prefix_projection`, from a smaller table through `Linear → tanh → Linear`.
public final class PrefixEncoder: Module, PromptLearningEncoder {
    /// The table, key `embedding`.
    @Child(key: "embedding") public var embedding: Embedding
    /// The projection, key `transform`; `nil` without `prefix_projection` or after loading.
    @Child(key: "transform") public var transform: Sequential?
    /// P.
    public let virtualTokenCount: Int
    /// Keys and values for every attention layer.
    public var kind: PromptLearningKind { .prefixes }
    /// Whether the projection still exists.
    public var hasTrainingState: Bool { transform != nil }

    /// Creates the encoder as PEFT's `PrefixEncoder` does.
    public init(
        virtualTokenCount: Int, width: Int, layers: Int, configuration: PrefixTuningConfiguration,
        using generator: inout RandomGenerator
    ) {
        self.virtualTokenCount = virtualTokenCount
        super.init()
        if configuration.usesProjection {
            let hidden = configuration.encoderHiddenSize ?? width
            embedding = Embedding(count: virtualTokenCount, dimension: width, using: &generator)
            transform = Sequential([
                Linear(inputFeatures: width, outputFeatures: hidden, using: &generator),
                ActivationLayer(.tanh),
                Linear(
                    inputFeatures: hidden, outputFeatures: layers * 2 * width, using: &generator),
            ])
        } else {
            embedding = Embedding(
                count: virtualTokenCount, dimension: layers * 2 * width, using: &generator)
        }
    }

    /// The keys and values, `[P, L·2·C]`.
    public func callAsFunction() -> Tensor {
        transform.map { $0(embedding.weight) } ?? embedding.weight
    }

    /// Keeps only the final keys and values, as an adapter loaded for inference does.
    public func loadOutput(_ values: Tensor) throws {
        embedding = Embedding(weight: values)
        transform = nil
    }
}
