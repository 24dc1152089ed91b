import PEFTNN
import PEFTTensor

/// Bottleneck adapters (Houlsby et al., 2019; Pfeiffer et al., 2020; parallel: He et al., 2022): small
/// down-up networks inside each block, the up-projection starting at zero so a fresh adapter is the
/// identity. They add compute at inference and do not merge.
public enum BottleneckAdapters: PEFTMethod {
    /// Wraps the layers the placement names, from the family's `TransformerBlockLayout`, with adapter
    /// layers and adds the adapter to them.
    public static func apply(
        _ configuration: inout BottleneckConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        let blocks = try context.requireFamily(for: "placement").blockLayout
        let model = context.model
        var generator = RandomGenerator(seed: context.seed(for: "", purpose: "bottleneck"))
        switch configuration.placement {
        case .houlsby, .pfeiffer:
            let names =
                configuration.placement == .houlsby
                ? blocks.attentionOutput + blocks.feedForwardOutput : blocks.feedForwardOutput
            for path in try context.matchModules(
                .suffixes(names), isSupported: { $0 is any LinearLayer })
            {
                let layer: SequentialAdapterLayer
                switch try model.module(at: path) {
                case let existing as SequentialAdapterLayer: layer = existing
                case let linear as any LinearLayer:
                    layer = SequentialAdapterLayer(wrapping: linear)
                    try model.replaceModule(at: path, with: layer)
                case let other:
                    throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
                }
                try layer.adapters.add(
                    context.adapterName,
                    Bottleneck(
                        width: layer.outputFeatures, configuration: configuration,
                        generator: &generator))
            }
        case .parallel:
            for path in try context.matchModules(
                .suffixes(blocks.feedForward), isSupported: { $0 is any UnaryLayer })
            {
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
                try layer.adapters.add(
                    context.adapterName,
                    Bottleneck(width: width, configuration: configuration, generator: &generator))
            }
        }
        return .none
    }
}
