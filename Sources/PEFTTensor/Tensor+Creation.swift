extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// A tensor with every element set to `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: shape.reduce(1, *), repeating: value))
    }

    /// Zeros shaped like `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// `[start, start + step, ...]` up to but not including `end`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let storage = TensorStorage(count: count)
        for index in 0..<count { storage.pointer[index] = start + Float(index) * step }
        return Tensor(shape: [count], storage: storage)
    }

    /// Samples from a normal distribution with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
        using generator: inout RandomGenerator
    ) -> Tensor {
        let storage = TensorStorage(count: shape.reduce(1, *))
        generator.fillNormal(
            storage.mutableBuffer, mean: mean, standardDeviation: standardDeviation)
        return Tensor(shape: shape, storage: storage)
    }

    /// Samples uniformly from `[lowerBound, upperBound)`.
    public static func uniform(
        _ shape: [Int], in range: Range<Float> = 0..<1, using generator: inout RandomGenerator
    ) -> Tensor {
        let storage = TensorStorage(count: shape.reduce(1, *))
        generator.fillUniform(storage.mutableBuffer, in: range)
        return Tensor(shape: shape, storage: storage)
    }

    /// Builds a tensor by writing its elements through `body`.
    @inlinable
    static func build(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let storage = TensorStorage(count: shape.reduce(1, *))
        body(storage.pointer)
        return Tensor(shape: shape, storage: storage)
    }

    /// A copy of this tensor with its own storage and no autograd record.
    public func copied() -> Tensor {
        Tensor.build(shape) { $0.update(from: storage.pointer, count: count) }
    }
}
