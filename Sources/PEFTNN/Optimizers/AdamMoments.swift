import PEFTTensor

/// One parameter's Adam state: PyTorch's `step`, `exp_avg` and `exp_avg_sq`.
///
/// The moments hold one value per updated element: every element for ``Adam``, the selected ones
/// for a sparse optimizer.
public struct AdamMoments: Sendable {
    /// The number of updates this parameter has received.
    public var step: Int
    /// The moving average of the gradient, m.
    public let average: TensorStorage
    /// The moving average of the squared gradient, v.
    public let squaredAverage: TensorStorage

    /// Creates the state for `count` elements before their first update: step 0, moments zero.
    public init(count: Int) {
        self.init(
            step: 0, average: TensorStorage(count: count, repeating: 0),
            squaredAverage: TensorStorage(count: count, repeating: 0))
    }

    /// Creates the state from existing moments of equal size.
    public init(step: Int, average: TensorStorage, squaredAverage: TensorStorage) {
        precondition(
            average.count == squaredAverage.count,
            "AdamMoments: \(average.count) averages but \(squaredAverage.count) squared averages")
        self.step = step
        self.average = average
        self.squaredAverage = squaredAverage
    }

    /// The number of Float32 values held: two per element.
    public var elementCount: Int { 2 * average.count }
}
