import PEFTNN
import PEFTTensor

extension LoRALinear {
    /// Folds the adapter into the base weight; DoRA rescales the rows by `m / ‖W + sBA‖`.
    func merge(_ name: String, safe: Bool) throws {
        guard let factors = adapters[name], !factors.isMerged else { return }
        let (parameter, layout, _) = baseWeight
        let weight = baseWeightOutputsByInputs()
        var merged = withoutGradients { weight + factors.delta() }
        if let magnitude = factors.magnitude {
            let norms = withoutGradients { rowNorms(merged) }
            factors.mergedNorms = norms
            merged = withoutGradients {
                merged * (magnitude.value.detached() / norms).reshaped(to: [-1, 1])
            }
        }
        if safe && !merged.scalars.allSatisfy(\.isFinite) {
            throw AdapterError.invalidState(
                "NaNs detected in the merged weights. The adapter \(name) seems to be broken")
        }
        parameter.assign(
            layout == .outputsByInputs ? merged : withoutGradients { merged.transposed() })
        factors.isMerged = true
    }

    /// Takes a merged adapter back out of the base weight.
    func unmerge(_ name: String) {
        guard let factors = adapters[name], factors.isMerged else { return }
        let (parameter, layout, _) = baseWeight
        var weight = baseWeightOutputsByInputs()
        if let magnitude = factors.magnitude, let norms = factors.mergedNorms {
            weight = withoutGradients {
                weight * (norms / magnitude.value.detached()).reshaped(to: [-1, 1])
            }
        }
        let restored = withoutGradients { weight - factors.delta() }
        parameter.assign(
            layout == .outputsByInputs ? restored : withoutGradients { restored.transposed() })
        factors.isMerged = false
        factors.mergedNorms = nil
    }
}

extension LoRAEmbedding {
    /// Folds the adapter into the table: `E += s·(B·A)ᵀ`.
    func merge(_ name: String, safe: Bool) throws {
        guard let factors = adapters[name], !factors.isMerged else { return }
        let merged = withoutGradients { base.weight + factors.delta().transposed() }
        if safe && !merged.scalars.allSatisfy(\.isFinite) {
            throw AdapterError.invalidState(
                "NaNs detected in the merged weights. The adapter \(name) seems to be broken")
        }
        base.$weight.assign(merged)
        factors.isMerged = true
    }

    /// Takes a merged adapter back out of the table.
    func unmerge(_ name: String) {
        guard let factors = adapters[name], factors.isMerged else { return }
        base.$weight.assign(withoutGradients { base.weight - factors.delta().transposed() })
        factors.isMerged = false
    }
}

extension PEFTModel {
    /// Folds the named LoRA adapters (the active one by default) into the base weights, in place.
    ///
    /// Outputs stay the same up to rounding; a merged adapter costs nothing at inference. With `safe`,
    /// a merge that would produce a non-finite weight throws and leaves that layer as it was.
    public func merge(adapters names: [String]? = nil, safe: Bool = false) throws {
        let names = names ?? [activeAdapter]
        for name in names where configurations[name] == nil {
            throw AdapterError.unknownAdapter(name, known: adapterNames)
        }
        for name in names {
            let type = type(of: configurations[name]!).peftType
            guard type == LoRAConfiguration.peftType || type == IA3Configuration.peftType else {
                throw AdapterError.invalidState(
                    "\(type) adapters do not merge into the base weights")
            }
        }
        for (_, layer) in adapterLayers() {
            for name in names {
                if let linear = layer as? LoRALinear { try linear.merge(name, safe: safe) }
                if let embedding = layer as? LoRAEmbedding { try embedding.merge(name, safe: safe) }
                (layer as? IA3Linear)?.merge(name)
            }
        }
    }

    /// Takes every merged LoRA adapter back out of the base weights.
    public func unmerge() {
        for (_, layer) in adapterLayers() {
            for name in layer.adapterNames.reversed() {
                (layer as? LoRALinear)?.unmerge(name)
                (layer as? LoRAEmbedding)?.unmerge(name)
                (layer as? IA3Linear)?.unmerge(name)
            }
        }
    }

    /// Whether any adapter is merged into the base weights.
    public var isMerged: Bool {
        adapterLayers().contains { entry in
            ((entry.layer as? LoRALinear)?.adapters.values.contains(where: \.isMerged) ?? false)
                || ((entry.layer as? LoRAEmbedding)?.adapters.values.contains(where: \.isMerged)
                    ?? false)
                || !((entry.layer as? IA3Linear)?.merged.isEmpty ?? true)
        }
    }

    /// Merges the active adapter, puts every wrapped layer's base back in its place, and returns the
    /// plain base model; the container is empty afterwards. `modules_to_save` copies stay in the model.
    @discardableResult
    public func mergeAndUnload(safe: Bool = false) throws -> Module {
        try merge(safe: safe)
        return try unload()
    }

    /// Puts every wrapped layer's base back without merging, discarding the adapters.
    @discardableResult
    public func unload() throws -> Module {
        for (path, layer) in adapterLayers() {
            try base.replaceModule(at: path, with: layer.baseModule)
        }
        modulesToSave = ModulesToSave()
        configurations = [:]
        adapterNames = []
        return base
    }
}
