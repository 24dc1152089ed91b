/// A generation request the model cannot serve, found before the first forward pass.
///
/// These are caller mistakes that depend on run-time data (a prompt read from a file, a model loaded
/// from a folder), so ``CausalLanguageModel/generate(prompt:options:promptEmbeddings:prefixes:)``
/// and its batch form throw them instead of trapping inside the model.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// The prompt (with any prefix positions) needs more positions than the model has.
    case promptTooLong(length: Int, limit: Int)
    /// A prompt has no tokens: there is no last position to continue from.
    case emptyPrompt(index: Int)
    /// The prompts of one batch differ in length (batched prompts are not padded).
    case unequalPromptLengths(first: Int, other: Int, index: Int)
    /// A batch without prompts.
    case noPrompts

    /// One sentence naming the lengths involved.
    public var description: String {
        switch self {
        case .promptTooLong(let length, let limit):
            "the prompt is \(length) tokens, over the \(limit) positions the model has"
        case .emptyPrompt(let index): "prompt \(index) is empty"
        case .unequalPromptLengths(let first, let other, let index):
            "prompt \(index) is \(other) tokens, but prompt 0 is \(first); a batch needs equal lengths"
        case .noPrompts: "no prompts to continue"
        }
    }
}
