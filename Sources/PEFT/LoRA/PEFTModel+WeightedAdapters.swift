import PEFTNN
import PEFTTensor

/// How ``PEFTModel/addWeightedAdapter(_:weights:name:combination:svdRank:)`` combines LoRA adapters.
public enum LoRACombination: String, Sendable {
    /// `A = Σ sign·√|wᵢsᵢ|·Aᵢ`, `B = Σ √|wᵢsᵢ|·Bᵢ`: equal ranks; not the exact weighted sum of updates.
    case linear
    /// `A = cat(wᵢsᵢ·Aᵢ)`, `B = cat(Bᵢ)`: rank Σrᵢ, exactly `Σ wᵢ·ΔWᵢ`.
    case cat
    /// The exact `Σ wᵢ·ΔWᵢ`, truncated by SVD to `svdRank` (the largest rank by default).
    case svd
}

extension PEFTModel {
    /// Adds a new LoRA adapter `name` that combines existing ones, as PEFT's `add_weighted_adapter`.
    ///
    /// The new adapter has `alpha = r`, so its scaling is 1 and the old scalings are folded into its
    /// factors. All combined adapters must target the same modules.
    public func addWeightedAdapter(
        _ adapters: [String], weights: [Float], name: String, combination: LoRACombination = .svd,
        svdRank: Int? = nil
    ) throws {
        guard adapters.count == weights.count, !adapters.isEmpty else {
            throw AdapterError.invalidConfiguration(
                key: "weights", reason: "need one weight per adapter")
        }
        let sources = try adapters.map { adapter -> LoRAConfiguration in
            guard let configuration = configurations[adapter] as? LoRAConfiguration else {
                throw AdapterError.unknownAdapter(adapter, known: adapterNames)
            }
            return configuration
        }
        let layers = adapterLayers().compactMap { ($0.layer as? LoRALinear).map { layer in layer } }
        let ranks = layers.flatMap { layer in adapters.compactMap { layer.adapters[$0]?.rank } }
        let newRank: Int
        switch combination {
        case .linear:
            guard Set(ranks).count <= 1 else {
                throw AdapterError.invalidConfiguration(
                    key: "combination_type", reason: "linear needs equal ranks")
            }
            newRank = ranks.first ?? sources[0].rank
        case .cat:
            newRank = adapters.compactMap { adapter in layers.first?.adapters[adapter]?.rank }
                .reduce(0, +)
        case .svd: newRank = svdRank ?? ranks.max() ?? sources[0].rank
        }
        var configuration = sources[0]
        configuration.rank = newRank
        configuration.alpha = Float(newRank)
        configuration.rankPattern = [:]
        configuration.alphaPattern = [:]
        configuration.useRSLoRA = false
        configuration.useDoRA = false
        configuration.initialization = .standard
        try addAdapter(name, configuration: configuration)
        for layer in layers {
            guard let target = layer.adapters[name] else { continue }
            let parts = adapters.enumerated().compactMap { index, adapter in
                layer.adapters[adapter].map { ($0, weights[index]) }
            }
            guard parts.count == adapters.count else {
                throw AdapterError.invalidState(
                    "adapters \(adapters) do not all target the same modules")
            }
            let (down, up) = try withoutGradients {
                try combined(parts, combination: combination, rank: newRank)
            }
            target.down.assign(down)
            target.up.assign(up)
        }
    }

    private func combined(_ parts: [(LoRAFactors, Float)], combination: LoRACombination, rank: Int)
        throws
        -> (down: Tensor, up: Tensor)
    {
        switch combination {
        case .cat:
            let downs = parts.map { factors, weight in
                factors.down.value * (weight * factors.scaling)
            }
            return (
                concatenate(downs, alongAxis: 0),
                concatenate(parts.map { $0.0.up.value }, alongAxis: 1)
            )
        case .linear:
            var down = Tensor.zeros(parts[0].0.down.shape)
            var up = Tensor.zeros(parts[0].0.up.shape)
            for (factors, weight) in parts {
                let product = weight * factors.scaling
                let root = abs(product).squareRoot()
                down = down + factors.down.value.detached() * (product < 0 ? -root : root)
                up = up + factors.up.value.detached() * root
            }
            return (down, up)
        case .svd:
            var delta = parts[0].0.delta() * parts[0].1
            for (factors, weight) in parts.dropFirst() { delta = delta + factors.delta() * weight }
            let svd = try delta.singularValueDecomposition()
            let kept = min(rank, svd.singularValues.count)
            let up =
                svd.u.narrowed(alongAxis: 1, start: 0, length: kept)
                * svd.singularValues.narrowed(alongAxis: 0, start: 0, length: kept)
            let down = svd.vTransposed.narrowed(alongAxis: 0, start: 0, length: kept)
            guard kept < rank else { return (down, up) }
            // A rank above the matrix's own pads with zero directions.
            return (
                concatenate([down, Tensor.zeros([rank - kept, down.shape[1]])], alongAxis: 0),
                concatenate([up, Tensor.zeros([up.shape[0], rank - kept])], alongAxis: 1)
            )
        }
    }
}
