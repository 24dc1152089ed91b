import PEFTNN
import PEFTTensor

/// A module a method put in place of a base layer to carry named adapters (LoRA, IA3, ...).
///
/// The container (``PEFTModel``) manages adapters through this protocol alone: which exist, which are
/// active, which tensors each saves, and how to take the layer out again.
public protocol AdapterLayer: Module {
    /// The names of the adapters this layer carries.
    var adapterNames: [String] { get }
    /// The adapters whose contribution the forward pass adds.
    var activeAdapters: [String] { get set }
    /// When set, the forward pass is the base layer's alone.
    var isDisabled: Bool { get set }
    /// The adapter's tensors keyed as PEFT writes them relative to this layer (`lora_A.weight`).
    func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)]
    /// Removes an adapter.
    func removeAdapter(named name: String)
    /// The layer this one wraps, which takes its place again on unload.
    var baseModule: Module { get }
}

extension AdapterLayer {
    /// Makes the named adapter's tensors trainable or frozen.
    func setAdapterTrainable(_ name: String, _ trainable: Bool) {
        for (_, parameter) in adapterParameters(named: name) { parameter.isTrainable = trainable }
    }
}
