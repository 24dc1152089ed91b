/// Batches drawn from a fixed set of examples without replacement, reshuffled every epoch, the same
/// for the same seed.
///
/// ```swift
/// var batches = ShuffledBatches(examples, batchSize: 16, seed: 0)
/// let batch = batches.next()   // 16 examples; never nil
/// ```
public struct ShuffledBatches: IteratorProtocol, Sequence {
    /// The examples batches are drawn from.
    public let examples: [TextExample]
    /// The number of examples in each batch.
    public let batchSize: Int
    /// The number of completed passes over the examples.
    public private(set) var epoch = 0
    private var order: [Int] = []
    private var position = 0
    private var generator: RandomGenerator
    /// Each example's length when batches are grouped by length; nil for a plain shuffle.
    private let groupingLengths: [Int]?

    /// Batches of `batchSize` drawn from `examples` (a batch larger than the set repeats examples).
    ///
    /// With `groupingLengths` (one per example), each shuffle is cut into mega-batches of 50
    /// batches, each sorted by length, longest first, as Hugging Face's `group_by_length` does:
    /// a batch then holds examples of similar length and little padding, still in an order fixed
    /// by the seed.
    public init(
        _ examples: [TextExample], batchSize: Int, seed: UInt64, groupingLengths: [Int]? = nil
    ) {
        precondition(!examples.isEmpty && batchSize > 0, "ShuffledBatches: nothing to draw")
        precondition(
            groupingLengths.map { $0.count == examples.count } ?? true,
            "ShuffledBatches: one length per example")
        self.examples = examples
        self.batchSize = batchSize
        self.groupingLengths = groupingLengths
        generator = RandomGenerator(seed: seed)
        order = Array(examples.indices).shuffled(using: &generator)
        groupOrder()
    }

    /// The number of examples in a mega-batch when grouping by length (Hugging Face's 50 batches).
    public var megaBatchSize: Int { batchSize * 50 }

    /// Sorts each mega-batch of the current order by length, longest first; ties keep the shuffle.
    private mutating func groupOrder() {
        guard let lengths = groupingLengths else { return }
        var grouped: [Int] = []
        grouped.reserveCapacity(order.count)
        for start in stride(from: 0, to: order.count, by: megaBatchSize) {
            let chunk = order[start..<Swift.min(start + megaBatchSize, order.count)]
            grouped += chunk.enumerated().sorted {
                (lengths[$0.element], $1.offset) > (lengths[$1.element], $0.offset)
            }.map { $0.element }
        }
        order = grouped
    }

    /// The next batch; an epoch that runs out mid-batch continues into a fresh shuffle.
    public mutating func next() -> [TextExample]? {
        var batch: [TextExample] = []
        while batch.count < batchSize {
            if position == order.count {
                order.shuffle(using: &generator)
                groupOrder()
                position = 0
                epoch += 1
            }
            batch.append(examples[order[position]])
            position += 1
        }
        return batch
    }
}

extension Array where Element == TextExample {
    /// The examples in consecutive chunks of at most `size`, in order, for evaluation.
    public func chunked(into size: Int) -> [[TextExample]] {
        precondition(size > 0, "chunked(into:): size must be positive")
        return stride(from: 0, to: count, by: size).map {
            Array(self[$0..<Swift.min($0 + size, count)])
        }
    }
}
