import PEFTNN
import PEFTTensor

/// Rescales a frozen linear layer by learned vectors (Liu et al., 2022): the output, `base(x)·l` with
/// `l: [out, 1]`, or for a feed-forward module the input, `base(x·l)` with `l: [1, in]`.
///
/// The base stays under `base_layer`; each adapter's vector is `ia3_l.<name>` in the model and
/// `ia3_l` in PEFT's file. Several active adapters multiply their vectors.
public final class IA3Linear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// Whether the vectors scale the input instead of the output.
    public let isFeedForward: Bool
    /// The adapters' vectors, by name.
    public var adapters = AdapterSet<IA3Vector>()
    /// The row → adapter assignment of a mixed-adapter call in progress (``RowAdapterSelecting``).
    public var rowAssignment: AdapterRowAssignment?

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer, isFeedForward: Bool) {
        self.isFeedForward = isFeedForward
        super.init()
        self.base = base
    }

    func add(_ name: String, initialValue: Float, generator: inout RandomGenerator) throws {
        let shape = isFeedForward ? [1, inputFeatures] : [outputFeatures, 1]
        let value =
            initialValue.isNaN
            ? Tensor.normal(shape, mean: 1, standardDeviation: 0.02, using: &generator)
            : Tensor.full(shape, initialValue)
        try adapters.add(name, IA3Vector(Parameter(value)))
    }

    /// Every adapter's vector keyed as PEFT keys it in the model (`ia3_l.<name>`).
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// The product of the active, unmerged vectors, flattened, or `nil` when there is none.
    func scale() -> Tensor? {
        let running = adapters.running.map { $0.adapter.vector.value }
        guard let first = running.first else { return nil }
        let product = running.dropFirst().reduce(first) { $0 * $1 }
        return product.reshaped(to: [-1])
    }

    /// `base(x)·l`, or `base(x·l)` for a feed-forward module.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let rowAssignment { return mixedForward(x, rowAssignment) }
        guard let scale = scale() else { return base(x) }
        return isFeedForward ? base(x * scale) : base(x) * scale
    }

    /// Folds the vector into the weight (and, scaling outputs, the bias).
    public func mergeAdapter(_ adapter: IA3Vector, safe: Bool) throws {
        let vector = adapter.vector.value.detached().reshaped(to: [-1])
        if safe { try checkFinite(vector, adapter: "IA3", layer: self) }
        apply(vector, dividing: false)
    }

    /// Divides the vector back out, as PEFT does (inexact where the vector is near zero).
    public func unmergeAdapter(_ adapter: IA3Vector) throws {
        apply(adapter.vector.value.detached().reshaped(to: [-1]) + 1e-8, dividing: true)
    }

    private func apply(_ vector: Tensor, dividing: Bool) {
        let (weight, bias, layout) = baseParameters
        let factor = dividing ? withoutGradients { 1 / vector } : vector
        withoutGradients {
            // Scaling outputs scales the rows of [out, in] (columns of [in, out]); inputs the other axis.
            let scalesRows = !isFeedForward
            let along =
                (layout == .outputsByInputs) == scalesRows
                ? factor.reshaped(to: [-1, 1]) : factor.reshaped(to: [1, -1])
            weight.assign(weight.value * along)
            if scalesRows, let bias { bias.assign(bias.value * factor) }
        }
    }

    private var baseParameters: (weight: Parameter, bias: Parameter?, layout: LinearWeightLayout) {
        if let linear = base as? Linear { return (linear.$weight, linear.$bias, .outputsByInputs) }
        if let conv = base as? Conv1D { return (conv.$weight, conv.$bias, .inputsByOutputs) }
        preconditionFailure("IA3Linear: unsupported base layer \(type(of: base))")
    }
}

/// One IA3 adapter's learned vector, `ia3_l`.
public final class IA3Vector: AdapterTensors {
    /// `[out, 1]` scaling outputs, `[1, in]` scaling inputs.
    public let vector: Parameter

    init(_ vector: Parameter) { self.vector = vector }

    /// `ia3_l`.
    public var tensors: [(key: String, parameter: Parameter)] { [("ia3_l", vector)] }
}
