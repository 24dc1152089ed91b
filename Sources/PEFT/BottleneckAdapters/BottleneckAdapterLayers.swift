import PEFTNN
import PEFTTensor

/// One named bottleneck: optional layer norm, `down` to the bottleneck, a non-linearity, `up` back.
final class Bottleneck {
    let down: Linear
    let up: Linear
    let norm: LayerNorm?
    let activation: Activation
    let scaling: Float

    /// `up` starts at zero, so a fresh adapter adds nothing.
    init(width: Int, configuration: BottleneckConfiguration, generator: inout RandomGenerator) {
        let size = configuration.bottleneck(for: width)
        down = Linear(
            weight: Tensor.normal([size, width], standardDeviation: 0.02, using: &generator),
            bias: Tensor.zeros([size]))
        up = Linear(weight: Tensor.zeros([width, size]), bias: Tensor.zeros([width]))
        norm = configuration.layerNorm ? LayerNorm(dimension: width) : nil
        activation = configuration.nonLinearity
        scaling = configuration.scaling
    }

    /// `s · up(act(down(norm(x))))`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let output = up(activation(down(norm.map { $0(x) } ?? x)))
        return scaling == 1 ? output : output * scaling
    }

    var parameters: [(key: String, parameter: Parameter)] {
        var result: [(key: String, parameter: Parameter)] = [
            ("adapter_down.weight", down.$weight), ("adapter_down.bias", down.$bias!),
            ("adapter_up.weight", up.$weight), ("adapter_up.bias", up.$bias!),
        ]
        if let norm {
            result += [("adapter_norm.weight", norm.$weight!), ("adapter_norm.bias", norm.$bias!)]
        }
        return result
    }
}

/// The bookkeeping both adapter layers share: named bottlenecks and which are active.
struct BottleneckSet {
    var bottlenecks: [String: Bottleneck] = [:]
    var order: [String] = []
    var active: [String] = []
    var disabled = false

    func running() -> [Bottleneck] { disabled ? [] : active.compactMap { bottlenecks[$0] } }

    /// The model-side keys, `adapter_down.<name>.weight`.
    func namedParameters() -> [(key: String, parameter: Parameter)] {
        order.flatMap { name in
            bottlenecks[name]!.parameters.map { key, parameter in
                let parts = key.split(separator: ".")
                return ("\(parts[0]).\(name).\(parts[1])", parameter)
            }
        }
    }

    mutating func remove(_ name: String) {
        bottlenecks[name] = nil
        order.removeAll { $0 == name }
        active.removeAll { $0 == name }
    }
}

/// What both bottleneck adapter layers share: their named bottlenecks, and the ``AdapterLayer`` calls
/// answered from them.
protocol BottleneckCarrier: AdapterLayer {
    var adapterSet: BottleneckSet { get set }
}

extension BottleneckCarrier {
    /// The adapters carried.
    public var adapterNames: [String] { adapterSet.order }
    /// The adapters applied.
    public var activeAdapters: [String] {
        get { adapterSet.active }
        set { adapterSet.active = newValue }
    }
    /// When set, only the base runs.
    public var isDisabled: Bool {
        get { adapterSet.disabled }
        set { adapterSet.disabled = newValue }
    }
    /// The adapter's tensors keyed as this library saves them.
    public func adapterParameters(named name: String) -> [(key: String, parameter: Parameter)] {
        adapterSet.bottlenecks[name]?.parameters ?? []
    }
    /// Removes an adapter.
    public func removeAdapter(named name: String) { adapterSet.remove(name) }
}

/// A bottleneck adapter after a linear layer, before the residual add: `y = base(x) + adapter(base(x))`.
public final class SequentialAdapterLayer: Module, LinearLayer, BottleneckCarrier {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    var adapterSet = BottleneckSet()

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The size of the input's last dimension.
    public var inputFeatures: Int { base.inputFeatures }
    /// The size of the output's last dimension.
    public var outputFeatures: Int { base.outputFeatures }
    /// The wrapped module.
    public var baseModule: Module { base }
    /// The bottlenecks' parameters under the adapter names.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        adapterSet.namedParameters()
    }

    /// `base(x)` plus every active adapter applied to it.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let output = base(x)
        return adapterSet.running().reduce(output) { $0 + $1(output) }
    }
}

/// A bottleneck adapter beside a feed-forward block: `y = ff(x) + adapter(x)`.
public final class ParallelAdapterLayer: Module, UnaryLayer, BottleneckCarrier {
    /// The wrapped block, key `base_layer`.
    @Child(key: "base_layer") public var base: any UnaryLayer
    var adapterSet = BottleneckSet()

    /// Wraps `base`.
    public init(wrapping base: any UnaryLayer) {
        super.init()
        self.base = base
    }

    /// The wrapped module.
    public var baseModule: Module { base }
    /// The bottlenecks' parameters under the adapter names.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        adapterSet.namedParameters()
    }

    /// `ff(x)` plus every active adapter applied to `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        adapterSet.running().reduce(base(x)) { $0 + $1(x) }
    }
}
