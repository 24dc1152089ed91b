import PEFTTensor

/// The format in which layers built inside ``withFrozenWeights(_:_:)`` store their weight matrices.
///
/// Compressing each matrix as its layer is built means a Float32 copy of the whole model never
/// exists, not even while a random model is initialised or a checkpoint loads.
public enum FrozenWeightConstruction {
    /// The format new `Linear`, `Conv1D` and `Embedding` weights are stored in; fp32 outside
    /// ``withFrozenWeights(_:_:)``.
    @TaskLocal public static var format: FrozenWeightFormat = .fp32

    /// Freezes `parameter` and stores it in ``format``, when that is not fp32.
    static func apply(to parameter: Parameter, channelAxis: Int) {
        guard format != .fp32 else { return }
        parameter.isTrainable = false
        parameter.compress(to: format, channelAxis: channelAxis)
    }
}

/// Runs `body` with every weight matrix of the layers it builds frozen and stored in `format`: how a
/// model gets a bf16, int8 or NF4 base.
///
/// ```swift
/// let model = withFrozenWeights(.nf4) { GPT2LMHeadModel(configuration: configuration, seed: 0) }
/// ```
public func withFrozenWeights<Result>(
    _ format: FrozenWeightFormat, _ body: () throws -> Result
) rethrows -> Result {
    // The Float32 matrices each layer was built from were freed as soon as they were compressed; the
    // pool would keep them for sizes that never come again.
    defer { if format != .fp32 { TensorMemoryPool.drain() } }
    return try FrozenWeightConstruction.$format.withValue(format, operation: body)
}
