import PEFTTensor

/// A named, trainable or frozen tensor owned by a module and updated in place by optimizers.
///
/// A trainable parameter's ``value`` is an autograd leaf, so backward accumulates into ``gradient``.
/// A frozen one is a constant: no op records a node for it, backward never computes its gradient, and no
/// gradient buffer or optimizer state ever exists for it.
///
/// A frozen matrix may instead be stored in bf16, int8 or NF4 (``compress(to:channelAxis:)``): then
/// ``lowPrecision`` holds it, layers compute from it panel by panel, and ``value`` is a transient
/// Float32 copy made on each read.
public final class Parameter: @unchecked Sendable {
    private var storedValue: Tensor?

    /// The frozen low-precision matrix this parameter is stored as, or `nil` for Float32.
    public private(set) var lowPrecision: LowPrecisionMatrix?

    /// The current value; an autograd leaf while the parameter trains. For a low-precision parameter,
    /// a fresh dequantised copy.
    public var value: Tensor {
        if let lowPrecision { return lowPrecision.dequantized() }
        return storedValue!
    }

    /// Creates a parameter holding `value`, trainable unless told otherwise.
    public init(_ value: Tensor, trainable: Bool = true) {
        storedValue = trainable ? value.detached().requiringGradient() : value.detached()
        shape = value.shape
    }

    /// Creates a frozen parameter stored as `matrix`.
    public init(frozen matrix: LowPrecisionMatrix) {
        lowPrecision = matrix
        shape = matrix.shape
    }

    /// The shape of the value.
    public let shape: [Int]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// This matrix as an output head's weight, as it is stored.
    public var outputHeadWeight: OutputHeadWeight {
        if let lowPrecision { return .lowPrecision(lowPrecision) }
        return .dense(value)
    }

    /// The bytes the stored value occupies: 4 a value in Float32, less in a low-precision format.
    public var byteCount: Int { lowPrecision?.byteCount ?? count * 4 }

    /// The format the value is stored in.
    public var storageFormat: FrozenWeightFormat { lowPrecision?.format ?? .fp32 }

    /// Whether backward computes a gradient for this parameter; a low-precision parameter is always
    /// frozen.
    public var isTrainable: Bool {
        get { storedValue?.requiresGradient ?? false }
        set {
            guard newValue != isTrainable else { return }
            precondition(
                lowPrecision == nil,
                "Parameter: a \(storageFormat) parameter \(shape) is frozen and cannot train")
            storedValue = newValue ? value.detached().requiringGradient() : value.detached()
        }
    }

    /// Stores this frozen matrix in `format` from now on (fp32 decompresses); `channelAxis` is the
    /// output-channel axis int8 scales run along. Only rank-2 parameters compress.
    public func compress(to format: FrozenWeightFormat, channelAxis: Int = 0) {
        precondition(
            !isTrainable && shape.count == 2,
            "Parameter.compress: only a frozen matrix compresses, got \(shape)")
        guard format != storageFormat else { return }
        let current = value
        if format == .fp32 {
            storedValue = current
            lowPrecision = nil
        } else {
            lowPrecision = LowPrecisionMatrix(current, format: format, channelAxis: channelAxis)
            storedValue = nil
        }
    }

    /// The gradient accumulated since the last ``zeroGradient()``, or `nil`.
    public var gradient: Tensor? { storedValue?.gradient }

    /// Drops the accumulated gradient and its buffer.
    public func zeroGradient() { storedValue?.zeroGradient() }

    /// Replaces the accumulated gradient (same shape) of a trainable parameter.
    public func replaceGradient(with gradient: Tensor) {
        precondition(storedValue != nil, "Parameter.replaceGradient: \(shape) is low-precision")
        storedValue!.replaceGradient(with: gradient)
    }

    /// Replaces the value with `newValue` (same shape), keeping whether the parameter trains and
    /// dropping any gradient; a low-precision parameter quantises it into its own format again.
    public func assign(_ newValue: Tensor) {
        precondition(
            newValue.shape == shape, "Parameter.assign: shape \(newValue.shape) != \(shape)")
        if let lowPrecision {
            self.lowPrecision = LowPrecisionMatrix(
                newValue, format: lowPrecision.format, channelAxis: lowPrecision.channelAxis)
            return
        }
        storedValue = isTrainable ? newValue.detached().requiringGradient() : newValue.detached()
    }

    /// Replaces a low-precision parameter's matrix with `matrix` (same shape), in whatever format it is.
    public func store(_ matrix: LowPrecisionMatrix) {
        precondition(
            lowPrecision != nil && matrix.shape == shape,
            "Parameter.store: \(matrix.shape) into a \(storageFormat) parameter \(shape)")
        lowPrecision = matrix
    }

    /// Runs `body` on the value's elements for an in-place update (optimizer steps, merges); a
    /// low-precision parameter is dequantised, updated and quantised again, which rounds.
    public func updateInPlace(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard lowPrecision != nil else {
            body(storedValue!.storage.mutableBuffer)
            return
        }
        let current = value
        body(current.storage.mutableBuffer)
        assign(current)
    }
}
