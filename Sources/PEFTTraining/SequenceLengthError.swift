/// An example that needs more positions than the model has: a training sequence (after truncation
/// to the maximum length) or a prompt to complete.
public struct SequenceLengthError: Error, Equatable, CustomStringConvertible {
    /// What the sequence is: a training example's whole text or a held-out example's prompt.
    public enum Role: String, Sendable {
        /// Prompt and completion, truncated to the maximum length, as training reads them.
        case training = "training example"
        /// The prompt alone, which generation reads before its first new token.
        case prompt = "held-out prompt"
    }

    /// Which sequence.
    public let role: Role
    /// The example's index in the list checked.
    public let index: Int
    /// The positions it needs.
    public let length: Int
    /// The positions the model has for it, after the adapter's virtual tokens or prefix.
    public let limit: Int
    /// The positions the adapter itself takes (virtual tokens or a prefix).
    public let adapterPositions: Int

    /// Names the example, its length and the limit.
    public var description: String {
        let taken =
            adapterPositions > 0
            ? " (\(limit + adapterPositions) less \(adapterPositions) for the adapter's virtual tokens)"
            : ""
        return
            "\(role.rawValue) \(index) is \(length) tokens, over the \(limit) positions the model "
            + "has\(taken)"
    }
}
