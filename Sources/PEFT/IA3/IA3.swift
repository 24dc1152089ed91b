import PEFTNN
import PEFTTensor

/// IA3 (Liu et al., 2022): learned vectors that rescale activations, as PEFT implements it.
public enum IA3: PEFTMethod {
    /// Wraps every targeted linear layer in ``IA3Linear``.
    public static func apply(_ configuration: inout IA3Configuration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        let peftType = IA3Configuration.peftType
        if case .automatic = configuration.targets {
            configuration.targets = .suffixes(try context.defaultTargets(for: peftType))
            if case .automatic = configuration.feedForwardModules {
                configuration.feedForwardModules = .suffixes(
                    context.family?.defaultFeedForwardModules(for: peftType) ?? [])
            }
        }
        if case .automatic = configuration.feedForwardModules {
            configuration.feedForwardModules = .suffixes([])
        }
        let paths = try context.matchModules(
            configuration.targets, excluded: configuration.excludedModules
        ) { $0 is any LinearLayer }
        let model = context.model
        var generator = RandomGenerator(seed: context.seed(for: "", purpose: "ia3"))
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
            try layer.add(
                context.adapterName, initialValue: configuration.initializesToOne ? 1 : .nan,
                generator: &generator)
        }
        return .none
    }

    /// IA3's vectors fold into the base weights.
    public static var mergesIntoBase: Bool { true }
}
