import PEFTNN
import PEFTTensor

extension PEFTModel {
    /// Adds a new LoRA adapter `name` that combines existing ones, as PEFT's `add_weighted_adapter`.
    ///
    /// The new adapter has `alpha = r`, so its scaling is 1 and the old scalings are folded into its
    /// factors. It targets the union of the adapters' targets, and each layer combines the adapters
    /// it has. A single adapter is always combined ``LoRACombination/linear``, as in PEFT. Unlike
    /// PEFT, which keeps the first adapter's `use_rslora` and so scales an rsLoRA combination by
    /// `√r`, the new adapter never uses rsLoRA or DoRA, and an existing `name` throws instead of
    /// returning silently.
    ///
    /// - Parameters:
    ///   - combination: How to combine; see ``LoRACombination``.
    ///   - svdRank: The new rank for the SVD types (the largest combined rank by default).
    ///   - svdClamp: For the SVD types, a quantile `q` in `[0, 1]`: `B = U·S` and `A = Vᵀ` are clamped
    ///     to `±quantile(B ∪ A, q)`, as PEFT's `svd_clamp`. The bound depends on the sign the SVD
    ///     gives each singular pair, which LAPACK picks differently here than in PyTorch, so clamped
    ///     results differ from PEFT's.
    ///   - density: The fraction of entries the pruning types keep, in `[0, 1]`; 1 or more prunes
    ///     nothing. Required by every type but `linear`, `cat` and `svd`.
    ///   - majoritySignMethod: How the TIES types elect each entry's sign.
    ///   - masks: Where the DARE types get their random keep-masks; pass a source that replays
    ///     recorded masks to reproduce another run (PEFT's, say) exactly.
    /// - Throws: ``AdapterError`` naming `weights`, `combination_type`, `density`, `svd_rank`,
    ///   `svd_clamp` or `target_modules` for invalid arguments, or an unknown or existing adapter,
    ///   before anything changes.
    public func addWeightedAdapter(
        _ adapters: [String], weights: [Float], name: String, combination: LoRACombination = .svd,
        svdRank: Int? = nil, svdClamp: Double? = nil, density: Double? = nil,
        majoritySignMethod: MajoritySignMethod = .total,
        masks: any PruningMaskSource = SeededPruningMasks()
    ) throws {
        guard adapters.count == weights.count, !adapters.isEmpty else {
            throw AdapterError.invalidConfiguration(
                key: "weights", reason: "need one weight per adapter")
        }
        let combination = adapters.count == 1 ? .linear : combination
        let sources = try adapters.map { adapter -> LoRAConfiguration in
            guard let configuration = configurations[adapter] as? LoRAConfiguration else {
                throw AdapterError.unknownAdapter(adapter, known: adapterNames)
            }
            return configuration
        }
        if combination.needsDensity {
            guard let density, density >= 0 else {
                throw AdapterError.invalidConfiguration(
                    key: "density",
                    reason: "\(combination.rawValue) needs a density of at least 0, got "
                        + (density.map { "\($0)" } ?? "none"))
            }
        }
        if let svdClamp, !(0...1).contains(svdClamp) {
            throw AdapterError.invalidConfiguration(
                key: "svd_clamp", reason: "must be a quantile in [0, 1], got \(svdClamp)")
        }
        if let svdRank, svdRank < 1 {
            throw AdapterError.invalidConfiguration(
                key: "svd_rank", reason: "must be positive, got \(svdRank)")
        }
        var layers = loraAdapterSets()
        // PEFT sizes the new adapter from the configurations: a rank pattern may only raise a rank.
        let configuredRanks = sources.map { max($0.rank, $0.rankPattern.values.max() ?? 0) }
        let layerRanks = layers.flatMap { entry in adapters.compactMap { entry.layer[$0]?.rank } }
        let newRank: Int
        if combination == .cat {
            newRank = configuredRanks.reduce(0, +)
        } else if combination.usesSVD {
            newRank = svdRank ?? configuredRanks.max()!
        } else {
            let distinct = Set(configuredRanks + layerRanks)
            guard distinct.count == 1 else {
                throw AdapterError.invalidConfiguration(
                    key: "combination_type",
                    reason:
                        "\(combination.rawValue) needs adapters of equal ranks, got \(distinct.sorted())"
                )
            }
            newRank = configuredRanks[0]
        }
        var configuration = sources[0]
        let context = AdapterContext(model: base, adapterName: name)
        configuration.targets = try Self.unionOfTargets(
            sources.map { try context.resolvedTargets($0.targets, peftType: "LORA") })
        configuration.rank = newRank
        configuration.alpha = Float(newRank)
        configuration.rankPattern = [:]
        configuration.alphaPattern = [:]
        configuration.useRSLoRA = false
        configuration.useDoRA = false
        configuration.initialization = .standard
        try addAdapter(name, configuration: configuration)
        layers = loraAdapterSets()
        let merge = WeightedMerge(
            combination: combination, rank: newRank, clamp: svdClamp, density: density ?? 1,
            signMethod: majoritySignMethod, masks: masks)
        do {
            for (path, layer) in layers {
                guard let target = layer[name] else { continue }
                // As in PEFT, a layer combines the adapters it has; the others add nothing there.
                let parts = adapters.enumerated().compactMap { index, adapter in
                    layer[adapter].map {
                        (name: adapter, factors: $0, weight: weights[index])
                    }
                }
                guard !parts.isEmpty else {
                    throw AdapterError.invalidState("none of \(adapters) adapts \(path)")
                }
                let (down, up) = try withoutGradients { try merge.factors(parts, layer: path) }
                target.down.assign(down)
                target.up.assign(up)
            }
        } catch {
            try? deleteAdapter(name)
            throw error
        }
    }
}

extension PEFTModel {
    /// The modules the combined adapter targets: the union of the adapters' lists, or their patterns
    /// joined as `(a)|(b)`, as PEFT joins them; equal targets of another kind stay as they are.
    fileprivate static func unionOfTargets(_ targets: [TargetModules]) throws -> TargetModules {
        if targets.allSatisfy({ $0 == targets[0] }) { return targets[0] }
        let lists = targets.compactMap { if case .suffixes(let names) = $0 { names } else { nil } }
        if lists.count == targets.count {
            var union: [String] = []
            for name in lists.joined() where !union.contains(name) { union.append(name) }
            return .suffixes(union)
        }
        let patterns = targets.compactMap { if case .pattern(let p) = $0 { p } else { nil } }
        if patterns.count == targets.count {
            return .pattern(patterns.map { "(\($0))" }.joined(separator: "|"))
        }
        throw AdapterError.invalidConfiguration(
            key: "target_modules",
            reason: "cannot combine adapters whose targets are of different kinds: \(targets)")
    }

    /// Every LoRA layer's adapters with its path: linear (and Conv1D) layers and embeddings alike,
    /// whose factors are `[r, in]` and `[out, r]`.
    fileprivate func loraAdapterSets() -> [(path: String, layer: AdapterSet<LoRAFactors>)] {
        adapterLayers().compactMap { entry in
            if let linear = entry.layer as? LoRALinear { return (entry.path, linear.adapters) }
            if let embedding = entry.layer as? LoRAEmbedding {
                return (entry.path, embedding.adapters)
            }
            return nil
        }
    }
}

/// One `add_weighted_adapter` call's settings, turning each layer's adapters into the new factors.
struct WeightedMerge {
    let combination: LoRACombination
    let rank: Int
    let clamp: Double?
    let density: Double
    let signMethod: MajoritySignMethod
    let masks: any PruningMaskSource

    typealias Part = (name: String, factors: LoRAFactors, weight: Float)

    /// The new adapter's `(A, B)` for the layer at `layer`.
    func factors(_ parts: [Part], layer: String) throws -> (down: Tensor, up: Tensor) {
        if combination == .cat {
            let downs = parts.map { $0.factors.down.value * ($0.weight * $0.factors.scaling) }
            let down = concatenate(downs, alongAxis: 0)
            let up = concatenate(parts.map { $0.factors.up.value }, alongAxis: 1)
            // A layer without some of the adapters fills only the leading directions, as PEFT does.
            return padded(down: down, up: up)
        }
        if combination.usesSVD {
            let delta = try merged(
                parts.map { $0.factors.delta() }, weights: parts.map(\.weight), parts: parts,
                layer: layer, target: .delta)
            return try truncated(delta)
        }
        // The weight and scaling split as a square root over A and B, the sign on A's side.
        let products = parts.map { Double($0.weight) * Double($0.factors.scaling) }
        let downWeights = products.map { Float(($0 < 0 ? -1 : 1) * abs($0).squareRoot()) }
        let upWeights = products.map { Float(abs($0).squareRoot()) }
        return (
            try merged(
                parts.map { $0.factors.down.value.detached() }, weights: downWeights, parts: parts,
                layer: layer, target: .down),
            try merged(
                parts.map { $0.factors.up.value.detached() }, weights: upWeights, parts: parts,
                layer: layer, target: .up)
        )
    }

    private func merged(
        _ tasks: [Tensor], weights: [Float], parts: [Part], layer: String,
        target: PruningMaskRequest.Target
    ) throws -> Tensor {
        try combination.taskMerge.merge(
            tasks, weights: weights, density: density, signMethod: signMethod
        ) { index in
            try masks.mask(
                for: PruningMaskRequest(
                    layer: layer, adapter: parts[index].name, target: target,
                    shape: tasks[index].shape, density: density))
        }
    }

    /// `B = U[:, :r]·diag(S[:r])`, `A = Vᵀ[:r]`, clamped if asked; a rank above the matrix's own
    /// pads with zero directions.
    private func truncated(_ delta: Tensor) throws -> (down: Tensor, up: Tensor) {
        let svd = try delta.singularValueDecomposition()
        let kept = min(rank, svd.singularValues.count)
        var up =
            svd.u.narrowed(alongAxis: 1, start: 0, length: kept)
            * svd.singularValues.narrowed(alongAxis: 0, start: 0, length: kept)
        var down = svd.vTransposed.narrowed(alongAxis: 0, start: 0, length: kept)
        if let clamp {
            let bound = Self.quantile(up.scalars + down.scalars, clamp)
            func clamped(_ tensor: Tensor) -> Tensor {
                Tensor(
                    shape: tensor.shape, scalars: tensor.scalars.map { min(max($0, -bound), bound) }
                )
            }
            (up, down) = (clamped(up), clamped(down))
        }
        return padded(down: down, up: up)
    }

    /// `A` and `B` with zero directions added up to the new rank.
    private func padded(down: Tensor, up: Tensor) -> (down: Tensor, up: Tensor) {
        let kept = down.shape[0]
        guard kept < rank else { return (down, up) }
        return (
            concatenate([down, Tensor.zeros([rank - kept, down.shape[1]])], alongAxis: 0),
            concatenate([up, Tensor.zeros([up.shape[0], rank - kept])], alongAxis: 1)
        )
    }

    /// The `q`-quantile of `values` with linear interpolation between the closest ranks, as
    /// `torch.quantile`.
    static func quantile(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let fraction = Float(position - Double(below))
        return sorted[below] + (sorted[above] - sorted[below]) * fraction
    }
}
