import Foundation
import PEFTNN
import PEFTTensor

/// A Llama-family decoder with a classification head: the body, then a bias-free `score`
/// projection `[labels, C]` of each row's last real token, as `transformers`'
/// `LlamaForSequenceClassification` (and its Mistral and Qwen siblings) builds it.
public final class LlamaForSequenceClassification: Module, ScoreHeadClassifier {
    /// The body, key `model`.
    @Child(key: "model") public var model: LlamaModel
    /// The head `[labels, C]`, key `score`.
    @Child(key: "score") public var score: Linear
    /// The body's configuration.
    public let configuration: LlamaConfiguration
    /// The head's settings.
    public let classification: SequenceClassificationSettings

    /// Creates a randomly initialised model, as Hugging Face initialises the body and its head.
    public init(
        configuration: LlamaConfiguration, classification: SequenceClassificationSettings,
        seed: UInt64 = 0
    ) {
        self.configuration = configuration
        self.classification = classification
        var generator = RandomGenerator(seed: seed)
        super.init()
        model = LlamaModel(configuration: configuration, using: &generator)
        score = Linear(
            weight: Tensor.normal(
                [classification.labelCount, configuration.hiddenSize],
                standardDeviation: configuration.initializerRange, using: &generator))
        reseedDropouts(seed: seed)
    }

    /// Loads a folder: a classification checkpoint, or a causal language model whose body is taken
    /// and whose head starts random (`transformers` does the same), with `labelCount` classes unless
    /// `config.json` says.
    public convenience init(contentsOf folder: URL, labelCount: Int? = nil, seed: UInt64 = 0)
        throws
    {
        let checkpoint = try CheckpointFolder(folder)
        let supported = LlamaConfiguration.supportedModelTypes
        guard supported.contains(checkpoint.modelType) else {
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: supported)
        }
        let configuration = try checkpoint.decodeConfiguration(LlamaConfiguration.self)
        try configuration.validate(file: checkpoint.configurationPath)
        let classification = try SequenceClassificationSettings(
            checkpoint: checkpoint, labelCount: labelCount)
        // Opened before the model is allocated, so a folder without weights fails at once.
        let weights = try checkpoint.weights()
        self.init(configuration: configuration, classification: classification, seed: seed)
        let names = Set(weights.tensorNames)
        let hasHead = names.contains("score.weight")
        // A tied causal checkpoint may store its embedding only as `lm_head.weight`.
        let embeddingAsHead =
            configuration.tieWordEmbeddings && !names.contains("model.embed_tokens.weight")
        do {
            try loadParameters(from: weights, strict: hasHead) { key in
                if key.hasSuffix(".rotary_emb.inv_freq") { return nil }
                if key == "lm_head.weight" {
                    return embeddingAsHead ? "model.embed_tokens.weight" : nil
                }
                return key
            }
        } catch let error as ModuleTreeError {
            throw ModelLoadingError.checkpoint(file: checkpoint.url.path, reason: error.description)
        }
    }

    /// The body's final hidden states.
    public func hiddenStates(_ inputs: DecoderInputs) -> Tensor { model(inputs) }

    /// Token embeddings `[B, T, C]`.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor {
        model.tokenEmbedding(
            tokenIDs.flatMap { $0 }, shape: [tokenIDs.count, tokenIDs.first?.count ?? 0])
    }

}
