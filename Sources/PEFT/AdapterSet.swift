import PEFTNN

/// The bookkeeping every adapter layer needs, written once: named adapters in the order they were
/// added, which are active, which are merged, and whether all are switched off.
public struct AdapterSet<Adapter> {
    private var adapters: [String: Adapter] = [:]
    /// The adapter names in the order they were added.
    public private(set) var names: [String] = []
    /// The adapters the forward pass applies.
    public var active: [String] = []
    /// The adapters folded into the base weights, in merge order.
    public private(set) var merged: [String] = []
    /// When set, no adapter runs.
    public var isDisabled = false

    /// An empty set.
    public init() {}

    /// The adapter named `name`.
    public subscript(name: String) -> Adapter? { adapters[name] }

    /// Adds an adapter; the name must be new.
    public mutating func add(_ name: String, _ adapter: Adapter) throws {
        guard adapters[name] == nil else { throw AdapterError.duplicateAdapter(name) }
        adapters[name] = adapter
        names.append(name)
    }

    /// Forgets an adapter.
    public mutating func remove(_ name: String) {
        adapters[name] = nil
        names.removeAll { $0 == name }
        active.removeAll { $0 == name }
        merged.removeAll { $0 == name }
    }

    /// Records that `name` is merged into the base weights, or no longer is.
    public mutating func setMerged(_ name: String, _ isMerged: Bool) {
        merged.removeAll { $0 == name }
        if isMerged { merged.append(name) }
    }

    /// Whether `name` is merged.
    public func isMerged(_ name: String) -> Bool { merged.contains(name) }

    /// The active, unmerged adapters (none when disabled), in activation order.
    public var running: [(name: String, adapter: Adapter)] {
        guard !isDisabled else { return [] }
        return active.compactMap { name in
            isMerged(name) ? nil : adapters[name].map { (name, $0) }
        }
    }

    /// Every adapter in insertion order.
    public var all: [(name: String, adapter: Adapter)] { names.map { ($0, adapters[$0]!) } }
}

/// An ``AdapterLayer`` whose adapters live in an ``AdapterSet``: the names, the active set, disabling,
/// removal and the merge bookkeeping come from the set, so a layer writes only its forward pass, its
/// tensors and, if it can, ``mergeAdapter(_:safe:)`` and ``unmergeAdapter(_:)``.
public protocol AdapterSetLayer: AdapterLayer {
    /// What one adapter holds.
    associatedtype Adapter
    /// The layer's adapters.
    var adapters: AdapterSet<Adapter> { get set }
    /// Folds one adapter into the base weights (the set records it); the default refuses.
    func mergeAdapter(_ adapter: Adapter, safe: Bool) throws
    /// Takes one merged adapter back out of the base weights; the default refuses.
    func unmergeAdapter(_ adapter: Adapter) throws
}

extension AdapterSetLayer {
    /// The adapters carried, in the order they were added.
    public var adapterNames: [String] { adapters.names }

    /// The adapters applied.
    public var activeAdapters: [String] {
        get { adapters.active }
        set { adapters.active = newValue }
    }

    /// When set, only the base layer runs.
    public var isDisabled: Bool {
        get { adapters.isDisabled }
        set { adapters.isDisabled = newValue }
    }

    /// The adapters folded into the base weights.
    public var mergedAdapters: [String] { adapters.merged }

    /// Unmerges the adapter if it is merged, then forgets it.
    public func removeAdapter(named name: String) throws {
        if adapters.isMerged(name) { try unmerge(name) }
        adapters.remove(name)
    }

    /// Merges once; merging a merged adapter does nothing.
    public func merge(_ name: String, safe: Bool) throws {
        guard let adapter = adapters[name], !adapters.isMerged(name) else { return }
        try mergeAdapter(adapter, safe: safe)
        adapters.setMerged(name, true)
    }

    /// Unmerges a merged adapter; an unmerged one is left alone.
    public func unmerge(_ name: String) throws {
        guard let adapter = adapters[name], adapters.isMerged(name) else { return }
        try unmergeAdapter(adapter)
        adapters.setMerged(name, false)
    }

    /// Refuses: this layer's method does not fold into the base weights.
    public func mergeAdapter(_ adapter: Adapter, safe: Bool) throws {
        throw AdapterError.invalidState(
            "\(type(of: self)) adapters do not merge into the base weights")
    }

    /// Refuses, as ``mergeAdapter(_:safe:)`` does.
    public func unmergeAdapter(_ adapter: Adapter) throws {
        throw AdapterError.invalidState(
            "\(type(of: self)) adapters do not merge into the base weights")
    }

    /// The adapter's tensors with PEFT's file keys, from ``AdapterTensors/tensors``.
    public func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)]
    where Adapter: AdapterTensors {
        adapters[name]?.tensors ?? []
    }

    /// Every adapter's tensors keyed as they sit in the module tree (`lora_A.default.weight`), for a
    /// layer's `namedDirectParameters` override.
    public func modelParameters() -> [(key: String, parameter: Parameter)]
    where Adapter: AdapterTensors {
        adapters.all.flatMap { name, adapter in
            adapter.tensors.map {
                (Adapter.modelKey(forFileKey: $0.key, adapterName: name), $0.parameter)
            }
        }
    }
}

/// One adapter's tensors, keyed as PEFT's file keys them relative to its layer.
public protocol AdapterTensors {
    /// `[("lora_A.weight", A), ("lora_B.weight", B)]`.
    var tensors: [(key: String, parameter: Parameter)] { get }
    /// Where the adapter name goes in the module tree's key: after the first segment, as PEFT's
    /// `ModuleDict`s put it (`lora_A.weight` → `lora_A.default.weight`, `ia3_l` → `ia3_l.default`).
    static func modelKey(forFileKey key: String, adapterName: String) -> String
}

extension AdapterTensors {
    /// The name after the first segment.
    public static func modelKey(forFileKey key: String, adapterName: String) -> String {
        guard let dot = key.firstIndex(of: ".") else { return "\(key).\(adapterName)" }
        return "\(key[..<dot]).\(adapterName)\(key[dot...])"
    }
}

/// An ``AdapterSetLayer`` that wraps a linear layer and is one itself: its sizes and its base module
/// are the wrapped layer's.
public protocol LinearAdapterLayer: AdapterSetLayer, LinearLayer {
    /// The wrapped layer.
    var base: any LinearLayer { get }
}

extension LinearAdapterLayer {
    /// The wrapped layer's input width.
    public var inputFeatures: Int { base.inputFeatures }
    /// The wrapped layer's output width.
    public var outputFeatures: Int { base.outputFeatures }
    /// The wrapped layer, which takes this one's place again on unload.
    public var baseModule: Module { base }
}
