import PEFTNN

/// The targeted linear layers of a method that wraps `Linear` and GPT-2's `Conv1D` alike.
public struct LinearWrappers<Wrapper: LinearAdapterLayer> {
    /// Each targeted path with its wrapper: the one already there (a second adapter), or a new one.
    public let layers: [(path: String, wrapper: Wrapper)]

    /// Whether any wrapped layer is GPT-2's `Conv1D`: PEFT then saves `fan_in_fan_out` true.
    public var wrapsConv1D: Bool { layers.contains { $0.wrapper.base is Conv1D } }
}

extension AdapterContext {
    /// Wrappers for the modules at `paths`: the `Wrapper` already at a path, or `make` around a
    /// `Linear` or `Conv1D`; any other module is refused by path. Nothing is replaced yet, so a
    /// refusal leaves the model as it was; ``install(_:)`` puts the new wrappers in place.
    public func linearWrappers<Wrapper: LinearAdapterLayer>(
        at paths: [String], make: (any LinearLayer) -> Wrapper
    ) throws -> LinearWrappers<Wrapper> {
        try LinearWrappers(
            layers: paths.map { path in
                switch try model.module(at: path) {
                case let existing as Wrapper: return (path, existing)
                case let layer as any LinearLayer where layer is Linear || layer is Conv1D:
                    return (path, make(layer))
                case let other:
                    throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
                }
            })
    }

    /// Puts each new wrapper in its layer's place; one already there stays.
    public func install<Wrapper>(_ wrappers: LinearWrappers<Wrapper>) throws {
        for (path, wrapper) in wrappers.layers where try model.module(at: path) !== wrapper {
            try model.replaceModule(at: path, with: wrapper)
        }
    }
}
