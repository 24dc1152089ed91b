import PEFTNN
import PEFTTensor

/// Refuses a merged weight with a non-finite entry; ``PEFTModel/merge(adapters:safe:)`` replaces the
/// method and type named here by the adapter's name and the layer's path.
func checkFinite(_ merged: Tensor, adapter: String, layer: Module) throws {
    let finite = merged.scalars.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }
    guard finite else {
        throw AdapterError.nonFiniteMerge(adapter: adapter, layer: "\(type(of: layer))")
    }
}

extension LoRALinear {
    /// Folds the adapter into the base weight; DoRA rescales the rows by `m / ‖W + sBA‖`.
    public func mergeAdapter(_ factors: LoRAFactors, safe: Bool) throws {
        let (parameter, layout, _) = baseWeight
        let weight = baseWeightOutputsByInputs()
        var merged = withoutGradients { weight + factors.delta() }
        var norms: Tensor?
        if let magnitude = factors.magnitude {
            let rowNorm = withoutGradients { rowNorms(merged) }
            norms = rowNorm
            merged = withoutGradients {
                merged * (magnitude.value.detached() / rowNorm).reshaped(to: [-1, 1])
            }
        }
        if safe { try checkFinite(merged, adapter: "LoRA", layer: self) }
        factors.mergedNorms = norms
        parameter.assign(
            layout == .outputsByInputs ? merged : withoutGradients { merged.transposed() })
    }

    /// Takes a merged adapter back out of the base weight.
    public func unmergeAdapter(_ factors: LoRAFactors) throws {
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
        factors.mergedNorms = nil
    }
}

extension LoRAEmbedding {
    /// Folds the adapter into the table: `E += s·(B·A)ᵀ`.
    public func mergeAdapter(_ factors: LoRAFactors, safe: Bool) throws {
        let merged = withoutGradients { base.weight + factors.delta().transposed() }
        if safe { try checkFinite(merged, adapter: "LoRA", layer: self) }
        base.$weight.assign(merged)
    }

    /// Takes a merged adapter back out of the table.
    public func unmergeAdapter(_ factors: LoRAFactors) throws {
        base.$weight.assign(withoutGradients { base.weight - factors.delta().transposed() })
    }
}
