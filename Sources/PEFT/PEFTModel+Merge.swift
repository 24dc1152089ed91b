import PEFTNN
import PEFTTensor

extension PEFTModel {
    /// Folds the named adapters (the active one by default) into the base weights, in place.
    ///
    /// Outputs stay the same up to rounding; a merged adapter costs nothing at inference. With `safe`,
    /// every merged weight is checked before it is written: the first layer whose merge would not be
    /// finite throws ``AdapterError/nonFiniteMerge(adapter:layer:)`` naming the adapter and that
    /// layer's path, and the layers merged before it are restored bit for bit, so nothing is merged.
    /// Methods whose ``PEFTMethod/mergesIntoBase`` is `false` are refused before anything changes.
    public func merge(adapters names: [String]? = nil, safe: Bool = false) throws {
        let names = names ?? activeAdapter.map { [$0] } ?? []
        for name in names {
            guard let configuration = configurations[name] else {
                throw AdapterError.unknownAdapter(name, known: adapterNames)
            }
            guard Self.mergesIntoBase(configuration) else {
                throw AdapterError.invalidState(
                    "\(type(of: configuration).peftType) adapters do not merge into the base weights"
                )
            }
        }
        var done: [(layer: any AdapterLayer, name: String, weights: [(Parameter, Tensor)])] = []
        do {
            for (path, layer) in adapterLayers() {
                for name in names where layer.adapterNames.contains(name) {
                    guard !layer.mergedAdapters.contains(name) else { continue }
                    let weights =
                        safe
                        ? layer.baseModule.namedParameters().map {
                            ($0.parameter, $0.parameter.value.copied())
                        } : []
                    do {
                        try layer.merge(name, safe: safe)
                    } catch AdapterError.nonFiniteMerge {
                        throw AdapterError.nonFiniteMerge(adapter: name, layer: path)
                    }
                    done.append((layer, name, weights))
                }
            }
        } catch {
            guard safe else { throw error }
            // Unmerging restores the layers' bookkeeping, the saved copies the exact bits.
            for (layer, name, weights) in done.reversed() {
                try? layer.unmerge(name)
                for (parameter, original) in weights { parameter.assign(original) }
            }
            throw error
        }
    }

    private static func mergesIntoBase<C: PEFTConfiguration>(_ configuration: C) -> Bool {
        C.Method.mergesIntoBase
    }

    /// Takes every merged adapter back out of the base weights, the last merged first.
    public func unmerge() throws {
        for (_, layer) in adapterLayers() {
            for name in layer.mergedAdapters.reversed() { try layer.unmerge(name) }
        }
    }

    /// Whether any adapter is merged into the base weights.
    public var isMerged: Bool {
        adapterLayers().contains { !$0.layer.mergedAdapters.isEmpty }
    }

    /// Merges the named adapters (the active one by default), puts every wrapped layer's base back in
    /// its place, and returns the plain base model; the container is empty afterwards.
    /// `modules_to_save` copies stay in the model. With `safe`, a non-finite merge throws before
    /// anything changes (see ``merge(adapters:safe:)``).
    @discardableResult
    public func mergeAndUnload(adapters names: [String]? = nil, safe: Bool = false) throws -> Base {
        try merge(adapters: names, safe: safe)
        return try unload(keepingBaseWeightEdits: true)
    }

    /// Puts every wrapped layer's base back without merging, discarding every adapter, its prompt
    /// encoder and its shared tensors; the container is empty afterwards.
    @discardableResult
    public func unload() throws -> Base {
        try unload(keepingBaseWeightEdits: false)
    }

    private func unload(keepingBaseWeightEdits: Bool) throws -> Base {
        for (path, layer) in adapterLayers() {
            try base.replaceModule(at: path, with: layer.baseModule)
        }
        if !keepingBaseWeightEdits {
            for (_, edit) in baseWeightEdits { edit.setApplied(false) }
        }
        modulesToSave = ModulesToSave()
        configurations = [:]
        adapterNames = []
        promptEncoders = [:]
        sharedModules = [:]
        clearActiveAdapter()
        return base
    }
}
