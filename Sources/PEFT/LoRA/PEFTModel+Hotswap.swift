import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor

/// One LoRA tensor of a loaded adapter, found by its file key, for hot-swapping.
private struct SwapSlot {
    let path: String
    let factors: LoRAFactors?
    let parameter: Parameter
    /// The axis that holds the rank (0 for A, 1 for B), or `nil` for tensors without one.
    let rankAxis: Int?
    /// The wrapped layer, for DoRA's magnitude of a module the new adapter leaves out.
    let layer: LoRALinear?
}

extension PEFTModel {
    /// Pads every LoRA adapter's factors with zeros to rank `targetRank`, so adapters of any rank up
    /// to it can later be hot-swapped in place: Hugging Face PEFT's
    /// `prepare_model_for_compiled_hotswap(model, target_rank=)`.
    ///
    /// Zero rows of A and zero columns of B leave every output as it was. This builds new parameter
    /// objects once, here; hot-swapping afterwards only writes into them. Throws when a factor's rank
    /// already exceeds `targetRank`, or when the model has no LoRA layer.
    public func prepareForHotswap(targetRank: Int) throws {
        let layers = loraFactorsByLayer()
        guard !layers.isEmpty else {
            throw AdapterError.invalidState(
                "no LoRA layer found; load the first adapter before prepareForHotswap")
        }
        for (path, _, factors) in layers where factors.rank > targetRank {
            throw AdapterError.invalidConfiguration(
                key: "target_rank",
                reason: "\(targetRank) is below the rank \(factors.rank) of '\(path)'")
        }
        for (_, _, factors) in layers where factors.rank < targetRank {
            let extra = targetRank - factors.rank
            factors.down = padded(factors.down, axis: 0, by: extra)
            factors.up = padded(factors.up, axis: 1, by: extra)
        }
        for name in adapterNames { recordPaddedRank(of: name) }
    }

    /// Rewrites a LoRA adapter's `r` (and `lora_alpha`, keeping the scaling) to the rank its padded
    /// factors now have, so a saved folder reloads; left alone with rank or alpha patterns, which
    /// cannot keep every module's scaling under one rank.
    private func recordPaddedRank(of name: String) {
        guard var configuration = configurations[name] as? LoRAConfiguration,
            configuration.rankPattern.isEmpty, configuration.alphaPattern.isEmpty
        else { return }
        let ranks = Set(
            adapterLayers().compactMap { _, layer in
                ((layer as? LoRALinear)?.adapters[name] ?? (layer as? LoRAEmbedding)?.adapters[name])?
                    .rank
            })
        guard ranks.count == 1, let rank = ranks.first, rank != configuration.rank else { return }
        let ratio = Float(rank) / Float(configuration.rank)
        configuration.alpha *= configuration.useRSLoRA ? ratio.squareRoot() : ratio
        configuration.rank = rank
        configurations[name] = configuration
    }

    /// Replaces the weights and scalings of the loaded LoRA adapter `adapterName` with those of the
    /// adapter saved in `folder`, in place: Hugging Face PEFT's `hotswap_adapter`.
    ///
    /// The adapter keeps its name, its parameter objects and their shapes, so nothing that holds them
    /// (an optimizer, a serving loop) needs rebuilding. A smaller rank fills the leading rows of A and
    /// columns of B and zeros the rest; a module the new adapter leaves out gets zero factors (DoRA:
    /// and the magnitude `‖W‖`, so it passes the base through). Everything is checked before any value
    /// changes: the new adapter must be LoRA with the same `use_rslora`, `lora_dropout`,
    /// `alpha_pattern` and `use_dora`, target no module the loaded one does not, and fit its (padded)
    /// rank; the loaded adapter must not be merged.
    public func hotswapAdapter(from folder: URL, adapterName: String) throws {
        guard let current = configurations[adapterName] else {
            throw AdapterError.unknownAdapter(adapterName, known: adapterNames)
        }
        guard let old = current as? LoRAConfiguration else {
            throw AdapterError.invalidState(
                "hot-swapping supports LoRA only; '\(adapterName)' is \(type(of: current).peftType)"
            )
        }
        let read = try AdapterFolder.readConfiguration(from: folder)
        guard let new = read as? LoRAConfiguration else {
            throw AdapterError.invalidState(
                "incompatible PEFT types: LORA and \(type(of: read).peftType)")
        }
        try checkHotswapCompatible(old, new)
        for (path, layer) in adapterLayers() where layer.mergedAdapters.contains(adapterName) {
            throw AdapterError.invalidState(
                "cannot hot-swap '\(adapterName)': it is merged into '\(path)'; unmerge first")
        }
        let url = folder.appendingPathComponent(AdapterFolder.weightsFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AdapterError.folder(path: url.path, reason: "missing file")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        let slots = swapSlots(adapterName: adapterName, configuration: old)
        let unexpected = file.tensorNames.filter { slots[$0] == nil }.sorted()
        guard unexpected.isEmpty else {
            throw AdapterError.unexpectedKeys(file: url.path, keys: unexpected)
        }
        // Dry run: every new tensor must fit its slot.
        var values: [(SwapSlot, Tensor)] = []
        for key in file.tensorNames.sorted() {
            let slot = slots[key]!
            let info = file.info(key)!
            let target = slot.parameter.shape
            let fits =
                info.shape.count == target.count
                && zip(info.shape, target).enumerated().allSatisfy { axis, sizes in
                    axis == slot.rankAxis ? sizes.0 <= sizes.1 : sizes.0 == sizes.1
                }
            guard fits else {
                if let axis = slot.rankAxis, info.shape.count == target.count,
                    info.shape[axis] > target[axis]
                {
                    throw AdapterError.invalidConfiguration(
                        key: "r",
                        reason:
                            "'\(key)' has rank \(info.shape[axis]), above the loaded rank \(target[axis]); "
                            + "pad it first with prepareForHotswap(targetRank:)")
                }
                throw AdapterError.shapeMismatch(key: key, expected: target, found: info.shape)
            }
            let storage = TensorStorage(count: info.elementCount)
            try file.copyFloats(key, into: storage.mutableBuffer)
            values.append((slot, Tensor(shape: info.shape, storage: storage)))
        }
        // Swap: first clear what the new adapter leaves out, then write what it brings.
        let present = Set(file.tensorNames)
        for (key, slot) in slots where !present.contains(key) {
            if slot.rankAxis == nil, let layer = slot.layer {
                slot.parameter.assign(
                    withoutGradients { rowNorms(layer.baseWeightOutputsByInputs()) })
            } else if slot.factors != nil {
                slot.parameter.assign(Tensor.zeros(slot.parameter.shape))
            }
        }
        for (slot, value) in values {
            if let axis = slot.rankAxis {
                let extra = slot.parameter.shape[axis] - value.shape[axis]
                slot.parameter.assign(extra == 0 ? value : zeroPadded(value, axis: axis, by: extra))
            } else {
                slot.parameter.assign(value)
            }
            slot.factors?.scaling = new.scaling(for: slot.path)
        }
        var kept = new
        kept.fanInFanOut = old.fanInFanOut
        configurations[adapterName] = kept
        recordPaddedRank(of: adapterName)
    }

    /// PEFT's `check_hotswap_configs_compatible`: these settings cannot change in place.
    private func checkHotswapCompatible(_ old: LoRAConfiguration, _ new: LoRAConfiguration) throws {
        let pairs: [(String, Bool)] = [
            ("use_rslora", old.useRSLoRA == new.useRSLoRA),
            ("lora_dropout", old.dropout == new.dropout),
            ("alpha_pattern", old.alphaPattern == new.alphaPattern),
            ("use_dora", old.useDoRA == new.useDoRA),
        ]
        for (key, same) in pairs where !same {
            throw AdapterError.invalidConfiguration(
                key: key, reason: "differs between the loaded and the new adapter")
        }
    }

    /// Every LoRA layer's factors, with the layer's path.
    private func loraFactorsByLayer() -> [(
        path: String, layer: any AdapterLayer, factors: LoRAFactors
    )] {
        adapterLayers().flatMap { path, layer -> [(String, any AdapterLayer, LoRAFactors)] in
            let factors: [LoRAFactors]
            switch layer {
            case let linear as LoRALinear: factors = linear.adapters.all.map(\.adapter)
            case let embedding as LoRAEmbedding: factors = embedding.adapters.all.map(\.adapter)
            default: factors = []
            }
            return factors.map { (path, layer, $0) }
        }
    }

    /// The loaded adapter's tensors by file key, with what a swap needs to know about each.
    private func swapSlots(adapterName: String, configuration: LoRAConfiguration) -> [String:
        SwapSlot]
    {
        var slots: [String: SwapSlot] = [:]
        for (key, parameter) in tensors(of: configuration, adapterName: adapterName) {
            slots[key] = SwapSlot(
                path: "", factors: nil, parameter: parameter, rankAxis: nil, layer: nil)
        }
        for (path, layer) in adapterLayers() {
            let factors =
                (layer as? LoRALinear)?.adapters[adapterName]
                ?? (layer as? LoRAEmbedding)?.adapters[adapterName]
            guard let factors else { continue }
            for (key, parameter) in factors.tensors {
                let axis: Int? = parameter === factors.down ? 0 : parameter === factors.up ? 1 : nil
                slots[AdapterFolder.keyPrefix + "\(path).\(key)"] = SwapSlot(
                    path: path, factors: factors, parameter: parameter, rankAxis: axis,
                    layer: layer as? LoRALinear)
            }
        }
        return slots
    }
}

/// `value` with `extra` zero slices appended along `axis` (0 or 1 of a matrix).
func zeroPadded(_ value: Tensor, axis: Int, by extra: Int) -> Tensor {
    var shape = value.shape
    shape[axis] = extra
    return withoutGradients {
        concatenate([value.detached(), Tensor.zeros(shape)], alongAxis: axis)
    }
}

/// A new parameter holding `parameter`'s value padded with zeros, trainable as it was.
private func padded(_ parameter: Parameter, axis: Int, by extra: Int) -> Parameter {
    Parameter(
        zeroPadded(parameter.value, axis: axis, by: extra), trainable: parameter.isTrainable)
}
