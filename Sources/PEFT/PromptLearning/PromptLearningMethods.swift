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

/// A model that prompt-learning methods can attach to.
public protocol PromptLearningHost: AnyObject {
    /// The sizes the adapter must match.
    var promptShape: PromptModelShape { get }
    /// The word-embedding table `[V, C]`, for text and vocabulary initialisation.
    var wordEmbeddingTable: Tensor { get }
}

extension GPT2LMHeadModel: PromptLearningHost {
    /// Width, layers and heads from the configuration.
    public var promptShape: PromptModelShape {
        PromptModelShape(
            width: configuration.embeddingSize, layers: configuration.layerCount,
            heads: configuration.headCount,
            submodules: 1)
    }
    /// `transformer.wte`.
    public var wordEmbeddingTable: Tensor { transformer.tokenEmbedding.weight }
}

extension T5ForConditionalGeneration: PromptLearningHost {
    /// Width, decoder layers and heads from the configuration.
    public var promptShape: PromptModelShape {
        PromptModelShape(
            width: configuration.modelSize, layers: configuration.decoderLayers,
            heads: configuration.headCount,
            submodules: 2)
    }
    /// `shared`.
    public var wordEmbeddingTable: Tensor { sharedEmbedding.weight }
}

/// Finds the host and fills the configuration's model-shaped settings.
func preparePromptLearning(_ settings: inout PromptLearningSettings, model: Module) throws
    -> PromptLearningHost
{
    guard let host = model as? any PromptLearningHost else {
        throw AdapterError.invalidState(
            "prompt-learning methods need a GPT-2 or T5 model (got \(type(of: model))): they change its inputs"
        )
    }
    try settings.fill(from: host.promptShape)
    return host
}

/// A seed per adapter name, so initialisation is reproducible.
func promptSeed(_ adapterName: String) -> UInt64 {
    LoRA.seed(for: "prompt", adapterName: adapterName)
}

/// Prompt tuning (Lester et al., 2021): learned virtual-token embeddings in front of the input.
public enum PromptTuning: PEFTMethod {
    /// Creates the table of `P · submodules` virtual tokens, initialised as configured.
    public static func apply(
        _ configuration: inout PromptTuningConfiguration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        let host = try preparePromptLearning(&configuration.settings, model: model)
        let count = configuration.settings.virtualTokenCount
        let rows = count * host.promptShape.submodules
        var generator = RandomGenerator(seed: promptSeed(adapterName))
        let table: Tensor
        let words = host.wordEmbeddingTable.detached()
        switch configuration.initialization {
        case .random:
            table = Tensor.normal([rows, host.promptShape.width], using: &generator)
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
        return PromptEmbedding(table: table, virtualTokenCount: count)
    }
}

/// P-tuning (Liu et al., 2021): virtual tokens produced by a trainable MLP or LSTM prompt encoder.
public enum PTuning: PEFTMethod {
    /// Creates the prompt encoder.
    public static func apply(
        _ configuration: inout PTuningConfiguration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        let host = try preparePromptLearning(&configuration.settings, model: model)
        var generator = RandomGenerator(seed: promptSeed(adapterName))
        let count = configuration.settings.virtualTokenCount
        return PTuningEncoder(
            rows: count * host.promptShape.submodules, width: host.promptShape.width,
            virtualTokenCount: count,
            configuration: configuration, using: &generator)
    }
}

/// Prefix tuning (Li & Liang, 2021): learned keys and values in front of every attention layer's own.
public enum PrefixTuning: PEFTMethod {
    /// Creates the prefix table (and projection).
    public static func apply(
        _ configuration: inout PrefixTuningConfiguration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        let host = try preparePromptLearning(&configuration.settings, model: model)
        var generator = RandomGenerator(seed: promptSeed(adapterName))
        return PrefixEncoder(
            virtualTokenCount: configuration.settings.virtualTokenCount,
            width: host.promptShape.width,
            layers: host.promptShape.layers, configuration: configuration, using: &generator)
    }

    /// Splits `[P, L·2·C]` into one prefix per layer, in PEFT's layout.
    ///
    /// A decoder's layer `l` takes block `2l` as keys and `2l + 1` as values. For an encoder-decoder PEFT
    /// 0.21 duplicates the table and cuts it in fours, so decoder layer `l` takes blocks `4l mod 2L` and
    /// `4l + 1 mod 2L` (for two layers, both use blocks 0 and 1); the same layout here keeps files
    /// interchangeable with Python. Prefixes reach only decoder self-attention.
    static func prefixes(from output: Tensor, layers: Int, width: Int, isEncoderDecoder: Bool)
        -> [AttentionPrefix]
    {
        let count = output.shape[0]
        func block(_ index: Int) -> Tensor {
            output.narrowed(alongAxis: 1, start: index * width, length: width).reshaped(to: [
                1, count, width,
            ])
        }
        return (0..<layers).map { layer in
            let (keyBlock, valueBlock) =
                isEncoderDecoder
                ? ((4 * layer) % (2 * layers), (4 * layer + 1) % (2 * layers))
                : (2 * layer, 2 * layer + 1)
            return AttentionPrefix(key: block(keyBlock), value: block(valueBlock))
        }
    }
}

extension PromptTuningConfiguration: MethodProviding {
    typealias Method = PromptTuning
}

extension PTuningConfiguration: MethodProviding {
    typealias Method = PTuning
}

extension PrefixTuningConfiguration: MethodProviding {
    typealias Method = PrefixTuning
}
