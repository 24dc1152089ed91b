import PEFTNN

/// One targeted layer as a LyCORIS-family method sees it while making its adapter.
public struct LyCORISTarget {
    /// The module's path (`model.layers.0.self_attn.q_proj`).
    public let path: String
    /// The layer's input width.
    public let inputs: Int
    /// The layer's output width.
    public let outputs: Int
    /// `r` after `rank_pattern`.
    public let rank: Int
    /// `alpha` after `alpha_pattern`.
    public let alpha: Float
}

extension LyCORISLinear {
    /// Wraps every module `settings` targets in a `LyCORISLinear` (or reuses the wrapper already
    /// there) and adds the adapter `make` builds for it, as PEFT's LyCORIS tuner does: targets,
    /// `exclude_modules`, `layers_to_transform`/`layers_pattern`, then the rank and alpha patterns
    /// per module path.
    static func apply(
        _ settings: inout LyCORISSettings, peftType: String, in context: AdapterContext,
        make: (LyCORISTarget) -> Adapter
    ) throws {
        try settings.validate()
        let targets = try context.resolvedTargets(settings.targets, peftType: peftType)
        settings.targets = targets
        let paths = try context.matchModules(
            targets, excluded: settings.excludedModules,
            layersToTransform: settings.layersToTransform, layersPattern: settings.layersPattern
        ) { $0 is any LinearLayer }
        let wrappers = try context.linearWrappers(at: paths) { Self(wrapping: $0) }
        try context.install(wrappers)
        for (path, layer) in wrappers.layers {
            let target = LyCORISTarget(
                path: path, inputs: layer.inputFeatures, outputs: layer.outputFeatures,
                rank: settings.rank(for: path), alpha: settings.alpha(for: path))
            try layer.adapters.add(context.adapterName, make(target))
            // A new adapter's dropouts start in training mode; they follow the wrapped layer's.
            layer.train(layer.base.isTraining)
        }
    }
}
