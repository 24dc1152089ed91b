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

    /// Batches of `batchSize` drawn from `examples` (a batch larger than the set repeats examples).
    public init(_ examples: [TextExample], batchSize: Int, seed: UInt64) {
        precondition(!examples.isEmpty && batchSize > 0, "ShuffledBatches: nothing to draw")
        self.examples = examples
        self.batchSize = batchSize
        generator = RandomGenerator(seed: seed)
        order = Array(examples.indices).shuffled(using: &generator)
    }

    /// The next batch; an epoch that runs out mid-batch continues into a fresh shuffle.
    public mutating func next() -> [TextExample]? {
        var batch: [TextExample] = []
        while batch.count < batchSize {
            if position == order.count {
                order.shuffle(using: &generator)
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
