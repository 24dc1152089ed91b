import PEFTNN
import PEFTTensor

/// Adds trainable low-rank updates to a frozen embedding: `e = base[id] + s·B·A[:, id]`.
///
/// PEFT keeps A as `[r, V]` (`lora_embedding_A`) and B as `[C, r]` (`lora_embedding_B`); a fresh adapter
/// has A zero and B normal, so it changes nothing. A tied output head keeps using the base table.
public final class LoRAEmbedding: Module, EmbeddingLayer, AdapterSetLayer {
    /// The wrapped table, key `base_layer`.
    @Child(key: "base_layer") public var base: Embedding
    /// The adapters, by name.
    public var adapters = AdapterSet<LoRAFactors>()
    /// The row → adapter assignment of a mixed-adapter call in progress (``RowAdapterSelecting``).
    public var rowAssignment: AdapterRowAssignment?

    /// Wraps `base`.
    public init(wrapping base: Embedding) {
        super.init()
        self.base = base
    }

    /// The base table `[V, C]`.
    public var weight: Tensor { base.weight }
    /// The base table's tied-head logits: LoRA on an embedding does not reach a tied head, as in
    /// Hugging Face PEFT.
    public func tiedHeadLogits(_ hidden: Tensor) -> Tensor { base.tiedHeadLogits(hidden) }
    /// The base table's, as the tied head uses it.
    public var tiedHeadWeight: OutputHeadWeight? { base.tiedHeadWeight }
    /// V.
    public var count: Int { base.count }
    /// C.
    public var dimension: Int { base.dimension }
    /// The wrapped table.
    public var baseModule: Module { base }

    /// Every adapter's factors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// The base rows plus every active, unmerged adapter's update.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        if let rowAssignment { return mixedLookup(ids, shape: shape, rowAssignment) }
        var output = base(ids, shape: shape)
        for (_, factors) in adapters.running { output = output + update(factors, ids, shape) }
        return output
    }

    /// One adapter's addition for `ids`: `s·B·A[:, id]`.
    func update(_ factors: LoRAFactors, _ ids: [Int], _ shape: [Int]) -> Tensor {
        let columns = gatherRows(factors.down.value.transposed(), indices: ids, indexShape: shape)
        return linear(columns, weight: factors.up.value) * factors.scaling
    }
}
