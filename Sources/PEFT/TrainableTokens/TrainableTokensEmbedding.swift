import PEFTNN
import PEFTTensor

/// New values for chosen rows of an embedding table: one trainable-tokens adapter.
public final class TrainableTokensDelta: AdapterTensors {
    /// `token_indices`: the rows replaced, in the order of ``delta``'s rows.
    public let indices: [Int]
    /// `trainable_tokens_delta`, `[n, C]`: the rows' new values (PEFT replaces, it does not add).
    public let delta: Parameter
    /// The rows' base values, put back on unmerge.
    let original: Tensor
    /// The file key: `trainable_tokens_delta`, or `token_adapter.trainable_tokens_delta` inside LoRA.
    let fileKey: String

    init(indices: [Int], delta: Tensor, original: Tensor, fileKey: String) {
        self.indices = indices
        self.delta = Parameter(delta)
        self.original = original
        self.fileKey = fileKey
    }

    /// The delta under PEFT's file key.
    public var tensors: [(key: String, parameter: Parameter)] { [(fileKey, delta)] }

    /// PEFT's `ParameterDict` puts the adapter name last (`trainable_tokens_delta.default`).
    public static func modelKey(forFileKey key: String, adapterName: String) -> String {
        "\(key).\(adapterName)"
    }
}

/// An embedding table whose chosen rows are trainable: Hugging Face PEFT's `TrainableTokensLayer`
/// (`TRAINABLE_TOKENS`, and LoRA's `trainable_token_indices`).
///
/// The base table stays frozen under `base_layer`; each adapter keeps new values for its rows, which
/// replace the base rows in lookups and in ``weight``, so a head tied to this table (GPT-2's) sees
/// the same rows: the tied output head stays consistent, as PEFT's tied adapter keeps it.
public final class TrainableTokensEmbedding: Module, EmbeddingLayer, AdapterSetLayer {
    /// The wrapped table, key `base_layer`.
    @Child(key: "base_layer") public var base: Embedding
    /// The adapters, by name.
    public var adapters = AdapterSet<TrainableTokensDelta>()

    /// Wraps `base`.
    public init(wrapping base: Embedding) {
        super.init()
        self.base = base
    }

    /// V.
    public var count: Int { base.count }
    /// C.
    public var dimension: Int { base.dimension }
    /// The wrapped table.
    public var baseModule: Module { base }

    /// Every adapter's delta keyed as PEFT keys it in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// The rows the running adapters replace: a table of their new values behind a zero row, and
    /// for every base row its row in that table (0 = keep the base row).
    private func replacements() -> (table: Tensor, source: [Int: Int])? {
        let running = adapters.running.map(\.adapter)
        guard !running.isEmpty else { return nil }
        var source: [Int: Int] = [:]
        var offset = 1
        for adapter in running {
            for (row, index) in adapter.indices.enumerated() { source[index] = offset + row }
            offset += adapter.indices.count
        }
        let table = concatenate(
            [Tensor.zeros([1, dimension])] + running.map(\.delta.value), alongAxis: 0)
        return (table, source)
    }

    /// The table with the running adapters' rows in place, `[V, C]`: what a tied head multiplies by.
    public var weight: Tensor {
        guard let (table, source) = replacements() else { return base.weight }
        return replacingRows(base.weight, from: table, source: (0..<count).map { source[$0] ?? 0 })
    }

    /// The rows for `ids`, the running adapters' values where they replace a token.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        guard let (table, source) = replacements() else { return base(ids, shape: shape) }
        return replacingRows(
            base(ids, shape: shape), from: table, source: ids.map { source[$0] ?? 0 })
    }

    /// Writes the adapter's rows into the base table.
    public func mergeAdapter(_ adapter: TrainableTokensDelta, safe: Bool) throws {
        let values = adapter.delta.value.detached()
        if safe { try checkFinite(values, adapter: "TRAINABLE_TOKENS", layer: self) }
        base.$weight.assign(withRows(adapter.indices, of: base.weight, setTo: values))
    }

    /// Puts the base rows back.
    public func unmergeAdapter(_ adapter: TrainableTokensDelta) throws {
        base.$weight.assign(withRows(adapter.indices, of: base.weight, setTo: adapter.original))
    }
}

/// `rows` (`[N, C]`, or `[..., C]` laid out as N rows) with row `i` replaced by `table[source[i]]`
/// wherever `source[i] > 0`; row 0 of `table` is zeros. Differentiable in `rows` and `table`.
func replacingRows(_ rows: Tensor, from table: Tensor, source: [Int]) -> Tensor {
    let width = table.shape[1]
    let keep = Tensor(
        shape: Array(rows.shape.dropLast()) + [1],
        scalars: source.map { $0 == 0 ? Float(1) : 0 })
    let replaced = gatherRows(table, indices: source).reshaped(to: rows.shape)
    precondition(
        rows.shape.last == width, "replacingRows: rows \(rows.shape), table \(table.shape)")
    return rows * keep + replaced
}

/// A copy of the `[V, C]` `table` with the rows `indices` set to `values` (`[n, C]`).
func withRows(_ indices: [Int], of table: Tensor, setTo values: Tensor) -> Tensor {
    let width = table.shape[1]
    var scalars = table.scalars
    let source = values.scalars
    for (row, index) in indices.enumerated() {
        scalars.replaceSubrange(
            (index * width)..<((index + 1) * width),
            with: source[(row * width)..<((row + 1) * width)])
    }
    return Tensor(shape: table.shape, scalars: scalars)
}
