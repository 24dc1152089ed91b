import PEFTModels
import PEFTNN
import PEFTTensor

/// The sizes a prompt-learning adapter is built for.
public struct PromptModelShape: Equatable, Sendable {
    /// The model width (`token_dim`).
    public var width: Int
    /// The number of decoder layers.
    public var layers: Int
    /// The number of attention heads.
    public var heads: Int
    /// 1 for a decoder-only model, 2 for an encoder-decoder.
    public var submodules: Int
}

/// The family, with the configuration's model-shaped settings filled in from it.
func preparePromptLearning(
    _ settings: inout PromptLearningSettings, context: AdapterContext,
    sizedForPrefixes: Bool = false
) throws -> any AdaptableModel {
    guard let family = context.family else {
        throw AdapterError.invalidState(
            "prompt-learning methods change a model's inputs, so they need a model that describes "
                + "its family (AdaptableModel); \(type(of: context.model)) does not")
    }
    try settings.fill(from: PromptModelShape(family, sizedForPrefixes: sizedForPrefixes))
    return family
}

extension PromptModelShape {
    /// The shape of `family`'s attention. Prefixes are keys and values, so under grouped-query
    /// attention PEFT sizes them by the key/value heads: `token_dim` is their width and
    /// `num_attention_heads` their count.
    init(_ family: any AdaptableModel, sizedForPrefixes: Bool = false) {
        let layout = family.attentionLayout
        self.init(
            width: sizedForPrefixes ? layout.keyValueWidth : layout.width,
            layers: layout.prefixLayers,
            heads: sizedForPrefixes ? layout.keyValueHeads : layout.heads,
            submodules: family.architecture == .encoderDecoder ? 2 : 1)
    }
}

/// Prompt tuning (Lester et al., 2021): learned virtual-token embeddings in front of the input.
public enum PromptTuning: PEFTMethod {
    /// Creates the table of `P · submodules` virtual tokens, initialised as configured.
    ///
    /// When the weights are about to be loaded from a folder, the table starts at zero instead: `TEXT`
    /// initialisation needs token ids a saved configuration does not hold, and the file replaces the
    /// values anyway (Hugging Face PEFT skips it in inference mode for the same reason).
    public static func apply(
        _ configuration: inout PromptTuningConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        let family = try preparePromptLearning(&configuration.settings, context: context)
        let shape = PromptModelShape(family)
        let count = configuration.settings.virtualTokenCount
        let rows = count * shape.submodules
        var generator = RandomGenerator(seed: context.seed(for: "", purpose: "prompt"))
        let table: Tensor
        let words = family.wordEmbeddingTable.detached()
        switch configuration.initialization {
        case _ where context.weightsWillBeLoaded:
            table = Tensor.zeros([rows, shape.width])
        case .random:
            table = Tensor.normal([rows, shape.width], using: &generator)
        case .sampleVocabulary:
            let ids = (0..<rows).map { _ in Int(generator.next() % UInt64(words.shape[0])) }
            table = withoutGradients { gatherRows(words, indices: ids) }
        case .text(let text, let tokenIDs):
            guard !tokenIDs.isEmpty, tokenIDs.allSatisfy({ $0 >= 0 && $0 < words.shape[0] }) else {
                throw AdapterError.invalidConfiguration(
                    key: "prompt_tuning_init_text",
                    reason:
                        "'\(text)' needs its token ids, each inside the vocabulary of \(words.shape[0])"
                )
            }
            // Repeated, then cut to length, as PEFT does.
            let repeated = (0..<rows).map { tokenIDs[$0 % tokenIDs.count] }
            table = withoutGradients { gatherRows(words, indices: repeated) }
        }
        return AdapterAttachment(
            promptEncoder: PromptEmbedding(table: table, virtualTokenCount: count))
    }
}

/// P-tuning (Liu et al., 2021): virtual tokens produced by a trainable MLP or LSTM prompt encoder.
public enum PTuning: PEFTMethod {
    /// Creates the prompt encoder.
    public static func apply(
        _ configuration: inout PTuningConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        let shape = PromptModelShape(
            try preparePromptLearning(&configuration.settings, context: context))
        var generator = RandomGenerator(seed: context.seed(for: "", purpose: "prompt"))
        let count = configuration.settings.virtualTokenCount
        return AdapterAttachment(
            promptEncoder:
                PTuningEncoder(
                    rows: count * shape.submodules, width: shape.width, virtualTokenCount: count,
                    configuration: configuration, using: &generator))
    }
}

/// Prefix tuning (Li & Liang, 2021): learned keys and values in front of every attention layer's own.
public enum PrefixTuning: PEFTMethod {
    /// Creates the prefix table (and projection).
    public static func apply(
        _ configuration: inout PrefixTuningConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        let family = try preparePromptLearning(
            &configuration.settings, context: context, sizedForPrefixes: true)
        var generator = RandomGenerator(seed: context.seed(for: "", purpose: "prompt"))
        return AdapterAttachment(
            promptEncoder:
                PrefixEncoder(
                    virtualTokenCount: configuration.settings.virtualTokenCount,
                    width: family.attentionLayout.keyValueWidth,
                    layers: family.attentionLayout.prefixLayers, configuration: configuration,
                    using: &generator))
    }
}
