import PEFTTensor

/// A named, trainable or frozen tensor owned by a module and updated in place by optimizers.
///
/// A trainable parameter's ``value`` is an autograd leaf, so backward accumulates into ``gradient``.
/// A frozen one is a constant: no op records a node for it, backward never computes its gradient, and no
/// gradient buffer or optimizer state ever exists for it.
public final class Parameter: @unchecked Sendable {
    /// The current value; an autograd leaf while the parameter trains.
    public private(set) var value: Tensor

    /// Creates a parameter holding `value`, trainable unless told otherwise.
    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = trainable ? value.detached().requiringGradient() : value.detached()
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }

    /// The number of elements.
    public var count: Int { value.count }

    /// Whether backward computes a gradient for this parameter.
    public var isTrainable: Bool {
        get { value.requiresGradient }
        set {
            guard newValue != isTrainable else { return }
            value = newValue ? value.detached().requiringGradient() : value.detached()
        }
    }

    /// The gradient accumulated since the last ``zeroGradient()``, or `nil`.
    public var gradient: Tensor? { value.gradient }

    /// Drops the accumulated gradient and its buffer.
    public func zeroGradient() { value.zeroGradient() }

    /// Replaces the accumulated gradient (same shape) of a trainable parameter.
    public func replaceGradient(with gradient: Tensor) { value.replaceGradient(with: gradient) }

    /// Replaces the value with `newValue` (same shape), keeping whether the parameter trains and
    /// dropping any gradient.
    public func assign(_ newValue: Tensor) {
        precondition(
            newValue.shape == value.shape,
            "Parameter.assign: shape \(newValue.shape) != \(value.shape)")
        value = isTrainable ? newValue.detached().requiringGradient() : newValue.detached()
    }

    /// Runs `body` on the value's elements for an in-place update (optimizer steps, merges).
    public func updateInPlace(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        body(value.storage.mutableBuffer)
    }
}
