import PEFT

/// One adapter's learned vectors: `y·scale + shift` per output channel.
public final class ScaleShiftVectors: AdapterTensors {
    /// `scale_shift.scale`, `[out]`, starting at one.
    public let scale: Parameter
    /// `scale_shift.shift`, `[out]`, starting at zero.
    public let shift: Parameter

    init(channels: Int) {
        scale = Parameter(Tensor.full([channels], 1))
        shift = Parameter(Tensor.zeros([channels]))
    }

    /// The file keys, relative to the layer.
    public var tensors: [(key: String, parameter: Parameter)] {
        [("scale_shift.scale", scale), ("scale_shift.shift", shift)]
    }
}

/// A frozen linear layer whose output channels are rescaled and shifted by learned vectors. A fresh
/// adapter is the identity; merging folds the scale into the weight and the shift into the bias.
public final class ScaleShiftLinear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name; ``AdapterSetLayer`` answers the container's questions from it.
    public var adapters = AdapterSet<ScaleShiftVectors>()

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    func add(_ name: String) throws {
        try adapters.add(name, ScaleShiftVectors(channels: outputFeatures))
    }

    /// The vectors keyed as they sit in the tree (`scale_shift.<name>.scale`).
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)·scale + shift` for every active, unmerged adapter.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        adapters.running.reduce(base(x)) { output, entry in
            output * entry.adapter.scale.value + entry.adapter.shift.value
        }
    }

    /// The weight with its output channels along rows or columns, and the bias.
    private var baseParameters: (weight: Parameter, outputsAlongRows: Bool, bias: Parameter?) {
        get throws {
            if let linear = base as? Linear { return (linear.$weight, true, linear.$bias) }
            if let conv = base as? Conv1D { return (conv.$weight, false, conv.$bias) }
            throw AdapterError.invalidState("ScaleShiftLinear cannot merge into \(type(of: base))")
        }
    }

    /// Folds `scale` into the weight and `shift` into the bias: `W' = diag(s)·W`, `b' = s·b + t`.
    public func mergeAdapter(_ adapter: ScaleShiftVectors, safe: Bool) throws {
        try fold(scale: adapter.scale.value.detached(), shift: adapter.shift.value.detached())
    }

    /// Undoes ``mergeAdapter(_:safe:)``: `b = (b' − t)/s`, `W = diag(1/s)·W'`.
    public func unmergeAdapter(_ adapter: ScaleShiftVectors) throws {
        let scale = adapter.scale.value.detached()
        try fold(
            scale: withoutGradients { 1 / scale },
            shift: withoutGradients { -adapter.shift.value.detached() / scale })
    }

    private func fold(scale: Tensor, shift: Tensor) throws {
        let (weight, outputsAlongRows, bias) = try baseParameters
        guard let bias else {
            throw AdapterError.invalidState(
                "ScaleShiftLinear merges its shift into a bias; the base has none")
        }
        withoutGradients {
            let along =
                outputsAlongRows ? scale.reshaped(to: [-1, 1]) : scale.reshaped(to: [1, -1])
            weight.assign(weight.value * along)
            bias.assign(bias.value * scale + shift)
        }
    }
}
