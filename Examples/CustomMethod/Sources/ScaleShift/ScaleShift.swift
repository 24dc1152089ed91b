import PEFT

/// A PEFT method this library does not ship: a learned scale and shift per output channel of chosen
/// linear layers (in the spirit of IA3 and BitFit together).
///
/// It plugs into ``PEFTModel`` through the library's public protocols alone: the configuration names
/// the method, ``apply(_:in:)`` wraps the layers, and ``ScaleShiftLinear`` carries the adapters.
public enum ScaleShift: PEFTMethod {
    /// Registers the configuration, so `PEFTModel.load` reads `SCALE_SHIFT` folders.
    public static func register() {
        AdapterConfigurationRegistry.register(ScaleShiftConfiguration.self)
    }

    /// Wraps every targeted linear layer in ``ScaleShiftLinear`` and adds the adapter to it.
    public static func apply(
        _ configuration: inout ScaleShiftConfiguration, in context: AdapterContext
    )
        throws -> AdapterAttachment
    {
        let paths = try context.matchModules(.suffixes(configuration.targets)) {
            $0 is any LinearLayer
        }
        for path in paths {
            switch try context.model.module(at: path) {
            case let layer as ScaleShiftLinear:
                try layer.add(context.adapterName)
            case let linear as any LinearLayer:
                let layer = ScaleShiftLinear(wrapping: linear)
                try context.model.replaceModule(at: path, with: layer)
                try layer.add(context.adapterName)
            case let other:
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
            }
        }
        return .none
    }

    /// The scale folds into the weight and the shift into the bias.
    public static var mergesIntoBase: Bool { true }
}
