import PEFTNN
import PEFTTensor

/// Rescales a frozen linear layer by learned vectors (Liu et al., 2022): the output, `base(x)·l` with
/// `l: [out, 1]`, or for a feed-forward module the input, `base(x·l)` with `l: [1, in]`.
///
/// The base stays under `base_layer`; each adapter's vector is `ia3_l.<name>` in the model and
/// `ia3_l` in PEFT's file. Several active adapters multiply their vectors.
public final class IA3Linear: Module, LinearLayer, AdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// Whether the vectors scale the input instead of the output.
    public let isFeedForward: Bool
    var vectors: [String: Parameter] = [:]
    var order: [String] = []
    var merged: Set<String> = []
    /// The adapters applied.
    public var activeAdapters: [String] = []
    /// When set, only the base layer runs.
    public var isDisabled = false

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer, isFeedForward: Bool) {
        self.isFeedForward = isFeedForward
        super.init()
        self.base = base
    }

    /// The size of the input's last dimension.
    public var inputFeatures: Int { base.inputFeatures }
    /// The size of the output's last dimension.
    public var outputFeatures: Int { base.outputFeatures }
    /// The adapters carried.
    public var adapterNames: [String] { order }
    /// The wrapped layer.
    public var baseModule: Module { base }

    func add(_ name: String, initialValue: Float, generator: inout RandomGenerator) {
        let shape = isFeedForward ? [1, inputFeatures] : [outputFeatures, 1]
        let value =
            initialValue.isNaN
            ? Tensor.normal(shape, mean: 1, standardDeviation: 0.02, using: &generator)
            : Tensor.full(shape, initialValue)
        vectors[name] = Parameter(value)
        order.append(name)
    }

    /// Removes an adapter.
    public func removeAdapter(named name: String) {
        vectors[name] = nil
        order.removeAll { $0 == name }
        activeAdapters.removeAll { $0 == name }
    }

    /// `ia3_l`.
    public func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)] {
        vectors[name].map { [("ia3_l", $0)] } ?? []
    }

    /// Every adapter's vector keyed as PEFT keys it in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        order.map { ("ia3_l.\($0)", vectors[$0]!) }
    }

    /// The product of the active, unmerged vectors, flattened, or `nil` when there is none.
    func scale() -> Tensor? {
        guard !isDisabled else { return nil }
        let running = activeAdapters.filter { !merged.contains($0) }.compactMap {
            vectors[$0]?.value
        }
        guard let first = running.first else { return nil }
        let product = running.dropFirst().reduce(first) { $0 * $1 }
        return product.reshaped(to: [-1])
    }

    /// `base(x)·l`, or `base(x·l)` for a feed-forward module.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard let scale = scale() else { return base(x) }
        return isFeedForward ? base(x * scale) : base(x) * scale
    }

    /// Folds the vector into the weight (and, scaling outputs, the bias).
    func merge(_ name: String) {
        guard let vector = vectors[name]?.value.detached(), !merged.contains(name) else { return }
        apply(vector.reshaped(to: [-1]), dividing: false)
        merged.insert(name)
    }

    /// Divides the vector back out, as PEFT does (inexact where the vector is near zero).
    func unmerge(_ name: String) {
        guard let vector = vectors[name]?.value.detached(), merged.contains(name) else { return }
        apply(vector.reshaped(to: [-1]) + 1e-8, dividing: true)
        merged.remove(name)
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
