/// The held-out examples of a task with what measuring a model on them needs: the tokenizer, the
/// longest input, and a generation budget just past the longest expected completion.
///
/// ```swift
/// let heldOut = HeldOutSet(task.heldOut, tokenizer: tokenizer, maximumLength: 512)
/// let before = heldOut.measure(untouched)
/// // train
/// let after = heldOut.measure(prepared)
/// print(before.exactMatch.formatted, "→", after.exactMatch.formatted)
/// ```
public struct HeldOutSet {
    /// The examples.
    public let examples: [TextExample]
    /// The tokenizer the model reads.
    public let tokenizer: any Tokenizer
    /// The longest input the loss reads; longer examples lose their end.
    public let maximumLength: Int
    /// Tokens generated per prompt: the longest expected completion and 4 more, since a longer
    /// generation cannot match.
    public let maximumNewTokens: Int

    /// Measures on `examples` through `tokenizer`.
    public init(_ examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int) {
        self.examples = examples
        self.tokenizer = tokenizer
        self.maximumLength = maximumLength
        maximumNewTokens = (examples.map { tokenizer.encode($0.completion).count }.max() ?? 0) + 4
    }

    /// A model's held-out loss (when asked for) and exact match.
    public struct Measurement {
        /// The mean loss per predicted token; nil when not measured or for no examples.
        public var loss: Float?
        /// The greedy generations compared with the completions.
        public var exactMatch: ExactMatchEvaluation

        /// A measurement of these values.
        public init(loss: Float?, exactMatch: ExactMatchEvaluation) {
            self.loss = loss
            self.exactMatch = exactMatch
        }
    }

    /// Measures `prepared`, leaving it in evaluation mode; `loss: false` skips the loss.
    ///
    /// Throws ``GenerationError`` for a prompt the model cannot take.
    public func measure(_ prepared: PreparedModel, loss: Bool = true) throws -> Measurement {
        try Measurement(
            loss: loss ? self.loss(of: prepared) : nil,
            exactMatch: prepared.exactMatch(
                on: examples, tokenizer: tokenizer, maximumNewTokens: maximumNewTokens))
    }

    /// The held-out loss of `prepared` alone, without generating; nil for no examples.
    public func loss(of prepared: PreparedModel) -> Float? {
        prepared.heldOutLoss(on: examples, tokenizer: tokenizer, maximumLength: maximumLength)
    }
}
