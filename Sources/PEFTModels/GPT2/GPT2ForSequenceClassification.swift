import Foundation
import PEFTNN
import PEFTTensor

/// GPT-2 with a classification head: the body, then a bias-free `score` projection `[labels, C]` of
/// each row's last real token, as `transformers`' `GPT2ForSequenceClassification`.
public final class GPT2ForSequenceClassification: Module, ScoreHeadClassifier {
    /// The transformer body, key `transformer`.
    @Child(key: "transformer") public var transformer: GPT2Model
    /// The head `[labels, C]`, key `score`.
    @Child(key: "score") public var score: Linear
    /// The body's configuration.
    public let configuration: GPT2Configuration
    /// The head's settings.
    public let classification: SequenceClassificationSettings

    /// Creates a randomly initialised model, as Hugging Face initialises GPT-2 and its head.
    public init(
        configuration: GPT2Configuration, classification: SequenceClassificationSettings,
        seed: UInt64 = 0
    ) {
        self.configuration = configuration
        self.classification = classification
        var generator = RandomGenerator(seed: seed)
        super.init()
        transformer = GPT2Model(configuration: configuration, using: &generator)
        score = Linear(
            weight: Tensor.normal(
                [classification.labelCount, configuration.embeddingSize],
                standardDeviation: configuration.initializerRange, using: &generator))
        reseedDropouts(seed: seed)
    }

    /// Loads a folder: a classification checkpoint, or a language model whose body is taken and
    /// whose head starts random (`transformers` does the same), with `labelCount` classes unless
    /// `config.json` says.
    public convenience init(contentsOf folder: URL, labelCount: Int? = nil, seed: UInt64 = 0)
        throws
    {
        let checkpoint = try CheckpointFolder(folder)
        guard checkpoint.modelType == "gpt2" else {
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: ["gpt2"])
        }
        let configuration = try checkpoint.decodeConfiguration(GPT2Configuration.self)
        try configuration.validate(file: checkpoint.configurationPath)
        let classification = try SequenceClassificationSettings(
            checkpoint: checkpoint, labelCount: labelCount)
        self.init(configuration: configuration, classification: classification, seed: seed)
        let weights = try checkpoint.weights()
        let hasHead = weights.tensorNames.contains("score.weight")
        do {
            try loadParameters(from: weights, strict: hasHead) { key in
                if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") { return nil }
                if key == "lm_head.weight" { return nil }
                if key.hasPrefix("transformer.") || key.hasPrefix("score.") { return key }
                return "transformer.\(key)"
            }
        } catch let error as ModuleTreeError {
            throw ModelLoadingError.checkpoint(file: checkpoint.url.path, reason: error.description)
        }
    }

    /// The body's final hidden states.
    public func hiddenStates(_ inputs: DecoderInputs) -> Tensor { transformer(inputs) }

    /// Token embeddings `[B, T, C]`.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor {
        transformer.tokenEmbedding(
            tokenIDs.flatMap { $0 }, shape: [tokenIDs.count, tokenIDs.first?.count ?? 0])
    }

}

extension GPT2ForSequenceClassification: AdaptableModelWithTargetTable {
    /// GPT-2's row of PEFT's tables.
    public static var defaultTargets: DefaultTargetModules { GPT2LMHeadModel.defaultTargets }

    /// `gpt2`.
    public var modelType: String { configuration.modelType }

    /// Decoder-only.
    public var architecture: ModelArchitecture { .causal }

    /// GPT-2's block parts.
    public var blockLayout: TransformerBlockLayout { GPT2LMHeadModel.blockLayout }

    /// `score`: trained in full as PEFT's `modules_to_save`, never wrapped by `all-linear`.
    public var outputHeadPaths: [String] { ["score"] }

    /// GPT-2's attention sizes.
    public var attentionLayout: AttentionLayout { configuration.attentionLayout }

    /// `transformer.wte`.
    public var wordEmbeddingTable: Tensor { transformer.tokenEmbedding.weight }
}
