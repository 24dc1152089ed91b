/// An n-dimensional array of Float32 values in contiguous row-major storage, with reverse-mode
/// automatic differentiation.
///
/// `Tensor` is a value: copying one copies a reference to its storage, never the elements. An
/// operation whose inputs need a gradient records an ``AutogradNode`` in its result, and
/// ``backward(_:)`` walks those nodes in reverse. Shapes in doc comments use the legend B (batch),
/// T (time), C (channels), H (heads), D (head size), V (vocabulary), r (rank).
public struct Tensor: @unchecked Sendable {
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// The elements, shared between copies of this tensor.
    public internal(set) var storage: TensorStorage
    /// The autograd record: a leaf for a tensor made trainable with ``requiringGradient()``, an op
    /// node for a result computed from such tensors, `nil` for a constant.
    public internal(set) var node: AutogradNode?

    /// Wraps existing storage; the storage must hold exactly as many elements as `shape` says.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(
            shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == storage.count,
            "Tensor: shape \(shape) does not fit \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    /// Creates a tensor of the given shape from row-major scalars.
    public init(shape: [Int], scalars: [Float]) {
        let storage = TensorStorage(count: scalars.count)
        scalars.withUnsafeBufferPointer {
            storage.pointer.update(from: $0.baseAddress!, count: $0.count)
        }
        self.init(shape: shape, storage: storage)
    }

    /// Creates a one-dimensional tensor from an array.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// Creates a zero-dimensional tensor holding one value.
    public init(_ scalar: Float) {
        self.init(shape: [], storage: TensorStorage(count: 1, repeating: scalar))
    }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The number of elements.
    @inlinable public var count: Int { storage.count }

    /// A copy of the elements in row-major order.
    public var scalars: [Float] { Array(storage.buffer) }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: shape \(shape) has \(count) elements, not 1")
        return storage.pointer[0]
    }

    /// The size of dimension `axis`; a negative axis counts from the end.
    public func size(_ axis: Int) -> Int { shape[normalizedAxis(axis)] }

    /// Turns a possibly negative axis into an index into `shape`.
    func normalizedAxis(_ axis: Int, op: String = #function) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(
            resolved >= 0 && resolved < Swift.max(rank, 1),
            "\(op): axis \(axis) out of range for shape \(shape)")
        return resolved
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and, for small tensors, the elements.
    public var description: String {
        let shown =
            count <= 16
            ? "\(scalars)" : "[\(scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")), ...]"
        return "Tensor(shape: \(shape), \(shown)\(requiresGradient ? ", requiresGradient" : ""))"
    }
}
