/// Several tokenized examples packed into one row of at most a maximum length, so that a batch of
/// short examples carries little padding (`peft train --pack`).
///
/// The model keeps the examples apart (``DecoderInputs/segmentIDs``): a token attends only to
/// earlier tokens of its own example, and positions restart at each example. The first token of
/// every example has no label, as in a row of its own, where no position predicts it; so the loss
/// over a packed batch is the loss over the same examples unpacked, term for term.
///
/// ```swift
/// let (rows, _) = PackedSequence.pack(examples, tokenizer: tokenizer, maximumLength: 128)
/// let packed = rows.map(TextExample.init(packed:))   // batches of rows, not of examples
/// ```
public struct PackedSequence: Hashable, Sendable, Codable {
    /// The examples' tokens, one after another.
    public var tokenIDs: [Int]
    /// Labels aligned with ``tokenIDs``, ``ignoredTarget`` on prompts and on each example's first
    /// token.
    public var labels: [Int]
    /// The number of tokens of each example, in order; they sum to the row's length.
    public var segmentLengths: [Int]

    /// Packs `examples` into rows of at most `maximumLength` tokens, first-fit decreasing: the
    /// longest example first, each into the first row with room (a new row when none has).
    ///
    /// The result depends only on the examples and their order (ties keep it). An example longer
    /// than `maximumLength` is truncated, as in an unpacked batch, and counted in `truncated`.
    public static func pack(
        _ examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int
    ) -> (rows: [PackedSequence], truncated: Int) {
        precondition(maximumLength > 0, "PackedSequence.pack: maximumLength \(maximumLength)")
        var truncated = 0
        let tokenized = examples.map { example in
            let full = CausalLanguageModelingBatch.row(
                of: example, tokenizer: tokenizer, maximumLength: .max)
            if full.tokens.count > maximumLength { truncated += 1 }
            var labels = Array(full.labels.prefix(maximumLength))
            if !labels.isEmpty { labels[0] = ignoredTarget }
            return (tokens: Array(full.tokens.prefix(maximumLength)), labels: labels)
        }
        let order = tokenized.indices.sorted {
            (-tokenized[$0].tokens.count, $0) < (-tokenized[$1].tokens.count, $1)
        }
        var rows: [PackedSequence] = []
        var room: [Int] = []
        for index in order where !tokenized[index].tokens.isEmpty {
            let (tokens, labels) = tokenized[index]
            let row =
                room.firstIndex { $0 >= tokens.count }
                ?? {
                    rows.append(PackedSequence(tokenIDs: [], labels: [], segmentLengths: []))
                    room.append(maximumLength)
                    return rows.count - 1
                }()
            rows[row].tokenIDs += tokens
            rows[row].labels += labels
            rows[row].segmentLengths.append(tokens.count)
            room[row] -= tokens.count
        }
        return (rows, truncated)
    }
}

extension TextExample {
    /// A training example that is a packed row of several.
    public init(packed: PackedSequence) {
        self.init(prompt: "", completion: "")
        self.packed = packed
    }
}
