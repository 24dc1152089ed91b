import PEFTNN
import PEFTTensor

/// A module a method put in place of a base layer to carry named adapters (LoRA, IA3, ...).
///
/// ``PEFTModel`` manages adapters through this protocol alone: which exist, which are active, which
/// tensors each saves, merging, and how to take the layer out again. A method from outside the library
/// conforms its layer to it (most conveniently through ``AdapterSetLayer``, which answers everything
/// but the tensors and the merge from an ``AdapterSet``).
public protocol AdapterLayer: Module {
    /// The names of the adapters this layer carries, in the order they were added.
    var adapterNames: [String] { get }
    /// The adapters whose contribution the forward pass adds.
    var activeAdapters: [String] { get set }
    /// When set, the forward pass is the base layer's alone.
    var isDisabled: Bool { get set }
    /// The adapter's tensors keyed as PEFT writes them relative to this layer (`lora_A.weight`).
    func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)]
    /// Removes an adapter (unmerging it first if it is merged).
    func removeAdapter(named name: String) throws
    /// The layer this one wraps, which takes its place again on unload.
    var baseModule: Module { get }
    /// The adapters folded into the base weights, in the order they were merged.
    var mergedAdapters: [String] { get }
    /// Folds the adapter into the base weights; with `safe`, a non-finite result throws and leaves the
    /// layer as it was. Methods that cannot merge throw.
    func merge(_ name: String, safe: Bool) throws
    /// Takes a merged adapter back out of the base weights.
    func unmerge(_ name: String) throws
}

extension AdapterLayer {
    /// Makes the named adapter's tensors trainable or frozen.
    func setAdapterTrainable(_ name: String, _ trainable: Bool) {
        for (_, parameter) in adapterParameters(named: name) { parameter.isTrainable = trainable }
    }
}
