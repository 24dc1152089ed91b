import PEFTTensor

/// A layer that turns token ids into vectors: what LoRA wraps on an embedding.
public protocol EmbeddingLayer: Module {
    /// The base table `[V, C]`, which a tied output head reuses.
    var weight: Tensor { get }
    /// The number of rows, V.
    var count: Int { get }
    /// The vector size, C.
    var dimension: Int { get }
    /// Looks up `ids` laid out as `shape`, giving `shape + [C]`.
    func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor
    /// The logits `hidden · Wᵀ` of an output head tied to this table: `[..., C]` to `[..., V]`.
    func tiedHeadLogits(_ hidden: Tensor) -> Tensor
    /// The matrix a tied head multiplies by, for a loss computed a block at a time; `nil` where the
    /// head is not one fixed matrix.
    var tiedHeadWeight: OutputHeadWeight? { get }
}

extension EmbeddingLayer {
    /// The logits `hidden · Wᵀ` of an output head tied to ``weight``.
    public func tiedHeadLogits(_ hidden: Tensor) -> Tensor { linear(hidden, weight: weight) }
    /// None: the loss goes through ``tiedHeadLogits(_:)``.
    public var tiedHeadWeight: OutputHeadWeight? { nil }
}

/// A lookup table of `[V, C]` vectors indexed by token id.
public final class Embedding: Module, EmbeddingLayer {
    /// `[V, C]`.
    @Param(key: "weight") public var weight: Tensor

    /// Creates a table from existing values.
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be [V, C], got \(weight.shape)")
        super.init()
        self.weight = weight
        FrozenWeightConstruction.apply(to: $weight, channelAxis: 0)
    }

    /// Creates a table of normal values with the given standard deviation.
    public convenience init(
        count: Int, dimension: Int, standardDeviation: Float = 1,
        using generator: inout RandomGenerator
    ) {
        self.init(
            weight: Tensor.normal(
                [count, dimension], standardDeviation: standardDeviation, using: &generator))
    }

    /// The number of rows, V.
    public var count: Int { $weight.shape[0] }
    /// The vector size, C.
    public var dimension: Int { $weight.shape[1] }

    /// Looks up `ids` laid out as `shape`, giving `shape + [C]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        if let stored = $weight.lowPrecision {
            return gatherRows(stored, indices: ids, indexShape: shape)
        }
        return gatherRows(weight, indices: ids, indexShape: shape)
    }

    /// The stored table, as a tied head's weight.
    public var tiedHeadWeight: OutputHeadWeight? { $weight.outputHeadWeight }

    /// The logits `hidden · Wᵀ` of an output head tied to this table, from the stored table.
    public func tiedHeadLogits(_ hidden: Tensor) -> Tensor {
        if let stored = $weight.lowPrecision { return linear(hidden, lowPrecisionWeight: stored) }
        return linear(hidden, weight: weight)
    }
}
