import PEFTNN
import PEFTTensor

extension PEFTModel {
    /// Folds the named adapters (the active one by default) into the base weights, in place.
    ///
    /// Outputs stay the same up to rounding; a merged adapter costs nothing at inference. With `safe`,
    /// a merge that would produce a non-finite weight throws and leaves that layer as it was. Methods
    /// whose ``PEFTMethod/mergesIntoBase`` is `false` are refused before anything changes.
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
        for (_, layer) in adapterLayers() {
            for name in names where layer.adapterNames.contains(name) {
                try layer.merge(name, safe: safe)
            }
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

    /// Merges the active adapter, puts every wrapped layer's base back in its place, and returns the
    /// plain base model; the container is empty afterwards. `modules_to_save` copies stay in the model.
    @discardableResult
    public func mergeAndUnload(safe: Bool = false) throws -> Base {
        try merge(safe: safe)
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
