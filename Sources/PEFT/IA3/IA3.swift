import PEFTNN
import PEFTTensor

/// IA3 (Liu et al., 2022): learned vectors that rescale activations, as PEFT implements it.
public enum IA3: PEFTMethod {
    /// PEFT's default targets and feed-forward modules per model family.
    public static let defaultTargets: [String: (targets: [String], feedForward: [String])] = [
        "gpt2": (["c_attn", "mlp.c_proj"], ["mlp.c_proj"]), "t5": (["k", "v", "wo"], ["wo"]),
    ]

    /// Wraps every targeted linear layer in ``IA3Linear``.
    public static func apply(
        _ configuration: inout IA3Configuration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        if case .automatic = configuration.targets {
            guard let modelType, let defaults = defaultTargets[modelType] else {
                throw AdapterError.invalidConfiguration(
                    key: "target_modules",
                    reason: "no default targets for model type '\(modelType ?? "unknown")'")
            }
            configuration.targets = .suffixes(defaults.targets)
            if case .automatic = configuration.feedForwardModules {
                configuration.feedForwardModules = .suffixes(defaults.feedForward)
            }
        }
        if case .automatic = configuration.feedForwardModules {
            configuration.feedForwardModules = .suffixes([])
        }
        let paths = try matchModules(
            in: model, targets: configuration.targets, excluded: configuration.excludedModules,
            layersToTransform: nil,
            layersPattern: nil
        ) { $0 is any LinearLayer }
        var generator = RandomGenerator(seed: LoRA.seed(for: "ia3", adapterName: adapterName))
        for path in paths {
            let isFeedForward = try configuration.feedForwardModules.matches(path)
            let layer: IA3Linear
            switch try model.module(at: path) {
            case let existing as IA3Linear:
                guard existing.isFeedForward == isFeedForward else {
                    throw AdapterError.invalidState(
                        "'\(path)' is a feed-forward module in one IA3 adapter only")
                }
                layer = existing
            case let linear as any LinearLayer:
                layer = IA3Linear(wrapping: linear, isFeedForward: isFeedForward)
                try model.replaceModule(at: path, with: layer)
            case let other:
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
            }
            if layer.base is Conv1D { configuration.fanInFanOut = true }
            guard !layer.adapterNames.contains(adapterName) else {
                throw AdapterError.duplicateAdapter(adapterName)
            }
            layer.add(
                adapterName, initialValue: configuration.initializesToOne ? 1 : .nan,
                generator: &generator)
        }
        return nil
    }

    /// The vectors, keyed as PEFT saves them (`….ia3_l`).
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: IA3Configuration
    ) -> [(key: String, parameter: Parameter)] {
        model.namedModules().flatMap { path, module -> [(key: String, parameter: Parameter)] in
            guard let layer = module as? IA3Linear else { return [] }
            return layer.adapterParameters(named: adapterName).map {
                (AdapterFolder.keyPrefix + "\(path).\($0.key)", $0.parameter)
            }
        }
    }
}

extension IA3Configuration: MethodProviding {
    typealias Method = IA3
}
