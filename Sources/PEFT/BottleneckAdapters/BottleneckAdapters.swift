import PEFTNN
import PEFTTensor

/// Bottleneck adapters (Houlsby et al., 2019; Pfeiffer et al., 2020; parallel: He et al., 2022): small
/// down-up networks inside each block, the up-projection starting at zero so a fresh adapter is the
/// identity. They add compute at inference and do not merge.
public enum BottleneckAdapters: PEFTMethod {
    /// Per family: attention output projections, feed-forward output projections, feed-forward blocks.
    public static let defaultTargets:
        [String: (attentionOutput: [String], feedForwardOutput: [String], feedForward: [String])] =
            [
                "gpt2": (["attn.c_proj"], ["mlp.c_proj"], ["mlp"]),
                "t5": (["SelfAttention.o"], ["DenseReluDense.wo"], ["DenseReluDense"]),
            ]

    /// Wraps the layers the placement names with adapter layers and adds the adapter to them.
    public static func apply(
        _ configuration: inout BottleneckConfiguration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        guard let modelType, let targets = defaultTargets[modelType] else {
            throw AdapterError.invalidConfiguration(
                key: "placement",
                reason:
                    "bottleneck adapters know the blocks of gpt2 and t5, not '\(modelType ?? "unknown")'"
            )
        }
        var generator = RandomGenerator(
            seed: LoRA.seed(for: "bottleneck", adapterName: adapterName))
        switch configuration.placement {
        case .houlsby, .pfeiffer:
            let names =
                configuration.placement == .houlsby
                ? targets.attentionOutput + targets.feedForwardOutput : targets.feedForwardOutput
            let paths = try matchModules(
                in: model, targets: .suffixes(names), excluded: nil, layersToTransform: nil,
                layersPattern: nil
            ) { $0 is any LinearLayer }
            for path in paths {
                let layer: SequentialAdapterLayer
                switch try model.module(at: path) {
                case let existing as SequentialAdapterLayer: layer = existing
                case let linear as any LinearLayer:
                    layer = SequentialAdapterLayer(wrapping: linear)
                    try model.replaceModule(at: path, with: layer)
                case let other:
                    throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
                }
                try add(
                    adapterName, to: &layer.adapterSet, width: layer.outputFeatures, configuration,
                    &generator)
            }
        case .parallel:
            let paths = try matchModules(
                in: model, targets: .suffixes(targets.feedForward), excluded: nil,
                layersToTransform: nil,
                layersPattern: nil
            ) { $0 is any UnaryLayer }
            for path in paths {
                let layer: ParallelAdapterLayer
                switch try model.module(at: path) {
                case let existing as ParallelAdapterLayer: layer = existing
                case let block as any UnaryLayer:
                    layer = ParallelAdapterLayer(wrapping: block)
                    try model.replaceModule(at: path, with: layer)
                case let other:
                    throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
                }
                guard
                    let width = layer.base.namedModules().lazy.compactMap({
                        $0.module as? any LinearLayer
                    }).first?
                    .inputFeatures
                else {
                    throw AdapterError.unsupportedTarget(
                        path: path, type: "\(type(of: layer.base))")
                }
                try add(adapterName, to: &layer.adapterSet, width: width, configuration, &generator)
            }
        }
        return nil
    }

    private static func add(
        _ name: String, to set: inout BottleneckSet, width: Int,
        _ configuration: BottleneckConfiguration,
        _ generator: inout RandomGenerator
    ) throws {
        guard set.bottlenecks[name] == nil else { throw AdapterError.duplicateAdapter(name) }
        set.bottlenecks[name] = Bottleneck(
            width: width, configuration: configuration, generator: &generator)
        set.order.append(name)
    }

    /// The bottlenecks' tensors, keyed as documented on ``BottleneckConfiguration``.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: BottleneckConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        model.namedModules().flatMap { path, module -> [(key: String, parameter: Parameter)] in
            guard let layer = module as? any AdapterLayer,
                layer is SequentialAdapterLayer || layer is ParallelAdapterLayer
            else { return [] }
            return layer.adapterParameters(named: adapterName).map {
                (AdapterFolder.keyPrefix + "\(path).\($0.key)", $0.parameter)
            }
        }
    }
}

extension BottleneckConfiguration: MethodProviding {
    typealias Method = BottleneckAdapters
}
