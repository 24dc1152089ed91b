/// One supervised example: a prompt and the completion the model should produce after it.
///
/// A decoder-only model reads `prompt + completion` and learns only the completion; an
/// encoder-decoder reads the prompt in its encoder (Hugging Face's `input`) and learns to decode the
/// completion (its `target`).
public struct TextExample: Hashable, Sendable, Codable {
    /// The text the model is given.
    public var prompt: String
    /// The text the model should produce.
    public var completion: String
    /// A chat conversation already rendered and tokenized, which batches use in place of
    /// `prompt + completion` (those then hold its last turn, for evaluation).
    public var chat: ChatExample? = nil
    /// Several examples tokenized and packed into one row (`--pack`), which batches use in place of
    /// `prompt + completion`.
    public var packed: PackedSequence? = nil

    /// An example from a prompt and its completion.
    public init(prompt: String, completion: String) {
        self.prompt = prompt
        self.completion = completion
    }
}
