import PEFTNN
import PEFTTensor

extension T5ForConditionalGeneration: AdaptableModelWithTargetTable {
    /// Hugging Face PEFT's default targets for `t5`.
    public static let defaultTargets: DefaultTargetModules = {
        var targets = DefaultTargetModules(
            lora: ["q", "v"], ia3: ["k", "v", "wo"], ia3FeedForward: ["wo"])
        targets.adalora = ["q", "k", "v", "o", "wi", "wo"]
        return targets
    }()

    /// `t5`.
    public var modelType: String { configuration.modelType }

    /// Encoder-decoder.
    public var architecture: ModelArchitecture { .encoderDecoder }

    /// `SelfAttention.o`, `DenseReluDense.wo` and `DenseReluDense`.
    public var blockLayout: TransformerBlockLayout {
        TransformerBlockLayout(
            attentionOutput: ["SelfAttention.o"], feedForwardOutput: ["DenseReluDense.wo"],
            feedForward: ["DenseReluDense"])
    }

    /// `lm_head` when the head is untied (T5 v1.1).
    public var outputHeadPaths: [String] { outputHead == nil ? [] : ["lm_head"] }

    /// Width, decoder layers and heads: prefixes reach the decoder's self-attention only.
    public var attentionLayout: AttentionLayout {
        AttentionLayout(
            width: configuration.modelSize, prefixLayers: configuration.decoderLayers,
            heads: configuration.headCount)
    }

    /// `shared`.
    public var wordEmbeddingTable: Tensor { sharedEmbedding.weight }

    /// PEFT 0.21's encoder-decoder layout: it duplicates the table and cuts it in fours, so decoder
    /// layer `l` takes blocks `4l mod 2L` (keys) and `4l + 1 mod 2L` (values); with two layers both use
    /// blocks 0 and 1. The same layout keeps files interchangeable with Python.
    public func attentionPrefixes(fromPrefixTable table: Tensor) -> [AttentionPrefix] {
        let layers = attentionLayout.prefixLayers
        return AttentionPrefix.split(table, width: attentionLayout.keyValueWidth, layers: layers) {
            ((4 * $0) % (2 * layers), (4 * $0 + 1) % (2 * layers))
        }
    }
}
