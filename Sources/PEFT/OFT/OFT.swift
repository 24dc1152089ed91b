import PEFTNN
import PEFTTensor

/// Orthogonal fine-tuning (Qiu et al., 2023), as PEFT 0.21 implements it: every targeted linear layer's
/// input is rotated by a trainable block-diagonal orthogonal matrix, parametrised by the Cayley
/// transform of skew-symmetric blocks (optionally constrained, COFT, or one block shared).
///
/// PEFT 0.21's OFT wraps `nn.Linear` (and `Conv2d` and `Embedding`, which this library does not
/// wrap); GPT-2's `Conv1D` is refused, as PEFT refuses it, so every adapter written here loads in
/// Python.
public enum OFT: PEFTMethod {
    /// Wraps every targeted `Linear` in ``OFTLinear`` and adds the adapter's blocks to it.
    public static func apply(_ configuration: inout OFTConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        try configuration.validate()
        let targets = try context.resolvedTargets(
            configuration.targets, peftType: OFTConfiguration.peftType)
        configuration.targets = targets
        configuration.fanInFanOut = false
        let paths = try context.matchModules(
            targets, excluded: configuration.excludedModules,
            layersToTransform: configuration.layersToTransform,
            layersPattern: configuration.layersPattern
        ) { $0 is any LinearLayer || $0 is any EmbeddingLayer }
        let model = context.model
        var layers: [(path: String, layer: OFTLinear?, linear: Linear?)] = []
        for path in paths {
            switch try model.module(at: path) {
            case let existing as OFTLinear: layers.append((path, existing, nil))
            case let linear as Linear: layers.append((path, nil, linear))
            case let conv as Conv1D:
                throw AdapterError.invalidConfiguration(
                    key: "target_modules",
                    reason:
                        "'\(path)' is a Conv1D [\(conv.inputFeatures) → \(conv.outputFeatures)] "
                        + "(GPT-2's fused layers); PEFT 0.21's OFT wraps nn.Linear only and raises "
                        + "TypeError on it, so such an adapter could not load in Python")
            case is any EmbeddingLayer:
                throw AdapterError.invalidConfiguration(
                    key: "target_modules",
                    reason: "'\(path)' is an embedding; OFT on embeddings is not supported here")
            case let other:
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
            }
        }
        for (path, existing, linear) in layers {
            let layer: OFTLinear
            if let existing {
                layer = existing
            } else {
                layer = OFTLinear(wrapping: linear!)
                try model.replaceModule(at: path, with: layer)
            }
            try layer.adapters.add(
                context.adapterName,
                makeRotation(
                    inputs: layer.inputFeatures, path: path, configuration: configuration,
                    context: context))
        }
        return .none
    }

    private static func makeRotation(
        inputs: Int, path: String, configuration: OFTConfiguration, context: AdapterContext
    ) -> OFTRotation {
        let (count, size) = OFTBlockLayout.resolve(
            inputs: inputs, blockCount: configuration.blockCount,
            blockSize: configuration.blockSize)
        let shape = [configuration.sharesBlocks ? 1 : count, size * (size - 1) / 2]
        let weight: Tensor
        if configuration.initializesWeights {
            weight = Tensor.zeros(shape)
        } else {
            var generator = RandomGenerator(seed: context.seed(for: path, purpose: "oft"))
            weight = Tensor.normal(shape, standardDeviation: 0.1, using: &generator)
        }
        return OFTRotation(
            weight: weight, blockSize: size, blockCount: count, configuration: configuration)
    }

    /// The adapter's blocks and the biases `bias` asks for, keyed as PEFT saves them.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: OFTConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        layerTensors(in: model, adapterName: adapterName)
            + biasTensors(
                in: model, adapterName: adapterName, wrappedLayers: configuration.bias == .oftOnly,
                allBiases: configuration.bias == .all)
    }

    /// OFT's rotations fold into the base weights.
    public static var mergesIntoBase: Bool { true }
}
