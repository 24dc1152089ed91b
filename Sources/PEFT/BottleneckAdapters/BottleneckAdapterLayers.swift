import PEFTNN
import PEFTTensor

/// One named bottleneck: optional layer norm, `down` to the bottleneck, a non-linearity, `up` back.
public final class Bottleneck: AdapterTensors {
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

    /// The tensors with this library's file keys (`adapter_down.weight`, ...).
    public var tensors: [(key: String, parameter: Parameter)] {
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

/// A bottleneck adapter after a linear layer, before the residual add: `y = base(x) + adapter(base(x))`.
public final class SequentialAdapterLayer: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The bottlenecks, by adapter name.
    public var adapters = AdapterSet<Bottleneck>()

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The bottlenecks' parameters under the adapter names.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)` plus every active adapter applied to it.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let output = base(x)
        return adapters.running.reduce(output) { $0 + $1.adapter(output) }
    }
}

/// A bottleneck adapter beside a feed-forward block: `y = ff(x) + adapter(x)`.
public final class ParallelAdapterLayer: Module, UnaryLayer, AdapterSetLayer {
    /// The wrapped block, key `base_layer`.
    @Child(key: "base_layer") public var base: any UnaryLayer
    /// The bottlenecks, by adapter name.
    public var adapters = AdapterSet<Bottleneck>()

    /// Wraps `base`.
    public init(wrapping base: any UnaryLayer) {
        super.init()
        self.base = base
    }

    /// The wrapped block.
    public var baseModule: Module { base }
    /// The bottlenecks' parameters under the adapter names.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `ff(x)` plus every active adapter applied to `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        adapters.running.reduce(base(x)) { $0 + $1.adapter(x) }
    }
}
