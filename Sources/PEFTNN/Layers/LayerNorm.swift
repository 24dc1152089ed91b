import PEFTTensor

/// Layer normalisation over the last dimension with an optional learned scale and shift.
public final class LayerNorm: Module {
    /// `[C]`, or `nil` without the affine part.
    @OptionalParam(key: "weight") public var weight: Tensor?
    /// `[C]`, or `nil` without the affine part.
    @OptionalParam(key: "bias") public var bias: Tensor?
    /// Added to the variance before the square root.
    public let epsilon: Float

    /// Creates a layer over `dimension` features: weight ones and bias zeros when `affine`.
    public init(dimension: Int, epsilon: Float = 1e-5, affine: Bool = true) {
        self.epsilon = epsilon
        super.init()
        if affine {
            weight = Tensor.ones([dimension])
            bias = Tensor.zeros([dimension])
        }
    }

    /// Normalises `x` over its last dimension.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// T5's layer norm: scaling by the reciprocal root mean square, no centring, no bias.
public final class RMSNorm: Module {
    /// `[C]`.
    @Param(key: "weight") public var weight: Tensor
    /// Added to the mean square before the square root.
    public let epsilon: Float

    /// Creates a layer over `dimension` features with weight ones.
    public init(dimension: Int, epsilon: Float = 1e-6) {
        self.epsilon = epsilon
        super.init()
        weight = Tensor.ones([dimension])
    }

    /// Normalises `x` over its last dimension.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        rmsNorm(x, weight: weight, epsilon: epsilon)
    }
}
