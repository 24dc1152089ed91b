/// Errors from choosing, applying, training, saving and loading a ``ParameterSelection``; each
/// names the parameter path, the file or the key at fault.
public enum SelectiveTuningError: Error, CustomStringConvertible, Equatable, Sendable {
    /// BitFit found no parameter whose path ends in `.bias`.
    case noBiases(model: String)
    /// A pattern or layer rule selected no parameter; `examples` are a few of the model's paths.
    case noParameterMatched(rule: String, examples: [String])
    /// A pattern is not a valid regular expression.
    case invalidPattern(String)
    /// A selected path names no parameter of the model.
    case unknownParameter(path: String)
    /// A selected parameter's shape differs from the model's parameter at that path.
    case shapeMismatch(path: String, expected: [Int], found: [Int])
    /// A selection's indices are not sorted, unique and inside the parameter.
    case invalidIndices(path: String, reason: String)
    /// A budget is negative, above 1 as a fraction, or larger than the candidates.
    case invalidBudget(String)
    /// Ranking needs at least one calibration batch and one candidate parameter.
    case invalidCalibration(String)
    /// A sensitivity score is NaN or infinite, so no ranking is meaningful.
    case nonFiniteScore(path: String)
    /// An optimizer was built over a selected parameter that does not train.
    case selectedParameterFrozen(path: String)
    /// The base values given to save a delta lack a selected parameter or differ in shape.
    case baseMismatch(path: String, reason: String)
    /// An entry outside the selection differs from the base, so the checkpoint would lose it.
    case unselectedEntryChanged(path: String, index: Int)
    /// A checkpoint folder lacks a file, or its configuration is malformed.
    case invalidCheckpoint(file: String, reason: String)
    /// A checkpoint file lacks a tensor its configuration implies.
    case missingTensor(file: String, key: String)
    /// A checkpoint file has a tensor no selected parameter takes.
    case unexpectedTensor(file: String, key: String)
    /// A checkpoint tensor's shape differs from what its parameter and indices need.
    case tensorShapeMismatch(file: String, key: String, expected: [Int], found: [Int])
    /// A checkpoint's index is outside its parameter, or the indices are not strictly increasing.
    case indexOutOfRange(file: String, key: String, index: Int64, count: Int)

    /// One sentence naming the parameter, file or key, and what to do.
    public var description: String {
        switch self {
        case .noBiases(let model):
            "\(model) has no parameter whose path ends in '.bias', so BitFit has nothing to "
                + "train; use LoRA or IA3, or select parameters by pattern with "
                + "ParameterSelection.matching(_:in:)."
        case .noParameterMatched(let rule, let examples):
            "\(rule) selected no parameter; the model's parameters include "
                + "\(examples.joined(separator: ", "))."
        case .invalidPattern(let pattern):
            "'\(pattern)' is not a valid regular expression."
        case .unknownParameter(let path):
            "The model has no parameter '\(path)'."
        case .shapeMismatch(let path, let expected, let found):
            "Parameter '\(path)' has shape \(found) in the model but \(expected) in the selection."
        case .invalidIndices(let path, let reason):
            "The selected indices of '\(path)' are invalid: \(reason)."
        case .invalidBudget(let reason):
            "Invalid selection budget: \(reason)."
        case .invalidCalibration(let reason):
            "Cannot rank parameters: \(reason)."
        case .nonFiniteScore(let path):
            "The sensitivity score of '\(path)' is not finite; check the loss for NaN or infinity."
        case .selectedParameterFrozen(let path):
            "Selected parameter '\(path)' is frozen; call selection.apply(to: model) before "
                + "creating the optimizer."
        case .baseMismatch(let path, let reason):
            "The base values for '\(path)' do not fit: \(reason)."
        case .unselectedEntryChanged(let path, let index):
            "Entry \(index) of '\(path)' differs from the base but is not selected, so a delta "
                + "checkpoint would lose it."
        case .invalidCheckpoint(let file, let reason):
            "Selective checkpoint '\(file)': \(reason)."
        case .missingTensor(let file, let key):
            "Selective checkpoint '\(file)' has no tensor '\(key)'."
        case .unexpectedTensor(let file, let key):
            "Selective checkpoint '\(file)' has tensor '\(key)', which no selected parameter takes."
        case .tensorShapeMismatch(let file, let key, let expected, let found):
            "Tensor '\(key)' in '\(file)' has shape \(found), expected \(expected)."
        case .indexOutOfRange(let file, let key, let index, let count):
            "Tensor '\(key)' in '\(file)' holds index \(index), which is out of order or outside "
                + "the parameter's \(count) elements."
        }
    }
}
