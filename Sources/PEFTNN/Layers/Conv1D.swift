import PEFTTensor

/// GPT-2's "Conv1D": a linear map whose weight is stored `[in, out]`, so `y = x·W + b`.
///
/// Checkpoints keep that layout, so it loads without a transpose; the GEMM takes the layout as a flag.
public final class Conv1D: Module, LinearLayer {
    /// `[in, out]`.
    @Param(key: "weight") public var weight: Tensor
    /// `[out]`.
    @OptionalParam(key: "bias") public var bias: Tensor?

    /// Creates a layer from existing values.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Conv1D: weight must be [in, out], got \(weight.shape)")
        super.init()
        self.weight = weight
        self.bias = bias
        FrozenWeightConstruction.apply(to: $weight, channelAxis: 1)
    }

    /// Creates a layer initialised as Hugging Face's GPT-2 does: weight normal with the given standard
    /// deviation, bias zero.
    public convenience init(
        inputFeatures: Int, outputFeatures: Int, standardDeviation: Float = 0.02,
        using generator: inout RandomGenerator
    ) {
        self.init(
            weight: Tensor.normal(
                [inputFeatures, outputFeatures], standardDeviation: standardDeviation,
                using: &generator),
            bias: Tensor.zeros([outputFeatures]))
    }

    /// The size of the input's last dimension.
    public var inputFeatures: Int { $weight.shape[0] }
    /// The size of the output's last dimension.
    public var outputFeatures: Int { $weight.shape[1] }

    /// Applies `x·W + b`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let stored = $weight.lowPrecision {
            return linear(x, lowPrecisionWeight: stored, bias: bias, layout: .inputsByOutputs)
        }
        return linear(x, weight: weight, bias: bias, layout: .inputsByOutputs)
    }
}
