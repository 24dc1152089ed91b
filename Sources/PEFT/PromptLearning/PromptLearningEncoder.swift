import PEFTNN
import PEFTTensor

/// What a prompt-learning adapter adds to a model's inputs.
public enum PromptLearningKind: Sendable {
    /// Virtual-token embeddings `[P, C]` in front of the input embeddings (prompt tuning, P-tuning).
    case virtualTokens
    /// Key/value prefixes for every attention layer, `[P, L·2·C]` (prefix tuning).
    case prefixes
}

/// The module a prompt-learning adapter keeps beside the model: it produces the virtual tokens or the
/// prefixes, from a plain table or through a trainable encoder that exists only while training.
public protocol PromptLearningEncoder: Module {
    /// Which input the output goes to.
    var kind: PromptLearningKind { get }
    /// The number of virtual tokens the model sees, P.
    var virtualTokenCount: Int { get }
    /// The output, differentiable: `[rows, width]` (rows ≥ P; T5 files carry two blocks of rows).
    func callAsFunction() -> Tensor
    /// Replaces the encoder with a fixed table holding `values` (what PEFT's file stores).
    func loadOutput(_ values: Tensor) throws
    /// Whether the encoder has parameters beyond the output table (an MLP, an LSTM, a projection), which
    /// PEFT's file does not hold and this library saves beside it for exact resumption.
    var hasTrainingState: Bool { get }
}
