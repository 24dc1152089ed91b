import PEFTTensor

/// A layer that maps the last dimension of its input linearly: what LoRA and IA3 wrap.
public protocol LinearLayer: Module {
    /// The size of the input's last dimension.
    var inputFeatures: Int { get }
    /// The size of the output's last dimension.
    var outputFeatures: Int { get }
    /// Applies the layer to `[..., inputFeatures]`, giving `[..., outputFeatures]`.
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// `y = x·Wᵀ + b` with the weight stored `[out, in]`, as PyTorch's `nn.Linear`.
public final class Linear: Module, LinearLayer {
    /// `[out, in]`.
    @Param(key: "weight") public var weight: Tensor
    /// `[out]`, or `nil` without a bias.
    @OptionalParam(key: "bias") public var bias: Tensor?

    /// Creates a layer from existing values.
    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        super.init()
        self.weight = weight
        self.bias = bias
        FrozenWeightConstruction.apply(to: $weight, channelAxis: 0)
    }

    /// Creates a layer initialised as PyTorch does: weight and bias uniform in `±1/√in`
    /// (Kaiming-uniform with `a = √5`).
    public convenience init(
        inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
        using generator: inout RandomGenerator
    ) {
        let bound = 1 / Float(max(inputFeatures, 1)).squareRoot()
        let weight = Tensor.uniform(
            [outputFeatures, inputFeatures], in: -bound..<bound, using: &generator)
        let biasValue =
            bias ? Tensor.uniform([outputFeatures], in: -bound..<bound, using: &generator) : nil
        self.init(weight: weight, bias: biasValue)
    }

    /// The size of the input's last dimension.
    public var inputFeatures: Int { $weight.shape[1] }
    /// The size of the output's last dimension.
    public var outputFeatures: Int { $weight.shape[0] }

    /// Applies `x·Wᵀ + b`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let stored = $weight.lowPrecision {
            return linear(x, lowPrecisionWeight: stored, bias: bias)
        }
        return linear(x, weight: weight, bias: bias)
    }
}
