import PEFTNN
import PEFTTensor

/// A ``SequenceClassifier`` built the way `transformers` builds its decoder classifiers: a body's
/// hidden states, pooled at each row's last real token, through a bias-free `score` head. The pooling,
/// the head and the settings' accessors are written here once; a family supplies its body.
public protocol ScoreHeadClassifier: SequenceClassifier {
    /// The head `[labels, C]`, key `score`.
    var score: Linear { get }
    /// The head's `config.json` settings.
    var classification: SequenceClassificationSettings { get }
    /// The body's final hidden states `[B, T, C]`.
    func hiddenStates(_ inputs: DecoderInputs) -> Tensor
}

extension ScoreHeadClassifier {
    /// Class logits `[B, labels]` at each row's last real token.
    public func classificationLogits(_ inputs: DecoderInputs) -> Tensor {
        score(
            gatherPositions(
                hiddenStates(inputs), pooledPositions(of: inputs, padTokenID: padTokenID)))
    }

    /// Class logits for a batch of token ids.
    public func callAsFunction(_ tokenIDs: [[Int]], attentionMask: [[Int]]? = nil) -> Tensor {
        classificationLogits(DecoderInputs(tokenIDs: tokenIDs, attentionMask: attentionMask))
    }

    /// The number of classes.
    public var labelCount: Int { classification.labelCount }

    /// `pad_token_id`.
    public var padTokenID: Int? { classification.padTokenID }
}

extension SequenceClassificationSettings {
    /// The settings in `checkpoint`'s `config.json`, with `labelCount` classes when given, checked.
    public init(checkpoint: CheckpointFolder, labelCount: Int?) throws {
        self = try checkpoint.decodeConfiguration(SequenceClassificationSettings.self)
        if let labelCount { self.labelCount = labelCount }
        try validate(file: checkpoint.configurationPath)
    }
}
