import PEFTNN
import PEFTTensor

/// Adds trainable low-rank updates to a frozen embedding: `e = base[id] + s·B·A[:, id]`.
///
/// PEFT keeps A as `[r, V]` (`lora_embedding_A`) and B as `[C, r]` (`lora_embedding_B`); a fresh adapter
/// has A zero and B normal, so it changes nothing. A tied output head keeps using the base table.
public final class LoRAEmbedding: Module, EmbeddingLayer, AdapterLayer {
    /// The wrapped table, key `base_layer`.
    @Child(key: "base_layer") public var base: Embedding
    var adapters: [String: LoRAFactors] = [:]
    var order: [String] = []
    /// The adapters added to the output.
    public var activeAdapters: [String] = []
    /// When set, only the base table is used.
    public var isDisabled = false

    /// Wraps `base`.
    public init(wrapping base: Embedding) {
        super.init()
        self.base = base
    }

    /// The base table `[V, C]`.
    public var weight: Tensor { base.weight }
    /// V.
    public var count: Int { base.count }
    /// C.
    public var dimension: Int { base.dimension }
    /// The adapters carried.
    public var adapterNames: [String] { order }
    /// The wrapped table.
    public var baseModule: Module { base }

    func add(_ name: String, factors: LoRAFactors) {
        adapters[name] = factors
        order.append(name)
    }

    /// Removes an adapter.
    public func removeAdapter(named name: String) {
        adapters[name] = nil
        order.removeAll { $0 == name }
        activeAdapters.removeAll { $0 == name }
    }

    /// The adapter's tensors with PEFT's relative keys.
    public func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)] {
        guard let factors = adapters[name] else { return [] }
        return [("lora_embedding_A", factors.down), ("lora_embedding_B", factors.up)]
    }

    /// Every adapter's factors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        order.flatMap { name in
            [
                ("lora_embedding_A.\(name)", adapters[name]!.down),
                ("lora_embedding_B.\(name)", adapters[name]!.up),
            ]
        }
    }

    /// The base rows plus every active, unmerged adapter's update.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        var output = base(ids, shape: shape)
        guard !isDisabled else { return output }
        for name in activeAdapters {
            guard let factors = adapters[name], !factors.isMerged else { continue }
            let columns = gatherRows(
                factors.down.value.transposed(), indices: ids, indexShape: shape)
            output = output + linear(columns, weight: factors.up.value) * factors.scaling
        }
        return output
    }
}
