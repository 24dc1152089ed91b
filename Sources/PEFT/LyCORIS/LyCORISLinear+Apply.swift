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
        let model = context.model
        var layers: [(path: String, layer: LyCORISLinear)] = []
        for path in paths {
            let module = try model.module(at: path)
            switch module {
            case let existing as LyCORISLinear: layers.append((path, existing))
            case let layer as any LinearLayer where layer is Linear || layer is Conv1D:
                layers.append((path, LyCORISLinear(wrapping: layer)))
            default:
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: module))")
            }
        }
        for (path, layer) in layers {
            if try model.module(at: path) !== layer {
                try model.replaceModule(at: path, with: layer)
            }
            let target = LyCORISTarget(
                path: path, inputs: layer.inputFeatures, outputs: layer.outputFeatures,
                rank: settings.rank(for: path), alpha: settings.alpha(for: path))
            try layer.adapters.add(context.adapterName, make(target))
            // A new adapter's dropouts start in training mode; they follow the wrapped layer's.
            layer.train(layer.base.isTraining)
        }
    }
}
