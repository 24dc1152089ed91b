/// A fixed-size, 64-byte-aligned buffer of Float32 values that tensors share.
///
/// Storage is written only while the tensor that owns it is being built, or in place by an optimizer
/// or a gradient accumulator that holds the only reference. Everything else treats it as immutable,
/// which is what lets `Tensor` be a cheap value type.
public final class TensorStorage: @unchecked Sendable {
    /// The number of Float32 elements.
    public let count: Int
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates uninitialised storage for `count` elements.
    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let region = OperationProfiler.enter(.allocation)
        defer { region.end() }
        let byteCount = StoragePool.sizeClass(for: max(count, 1) * MemoryLayout<Float>.stride)
        let raw =
            StoragePool.shared.take(byteCount: byteCount)
            ?? StoragePool.allocate(byteCount: byteCount)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        StoragePool.shared.recordLive(count * MemoryLayout<Float>.stride)
    }

    /// Allocates storage for `count` elements, all set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(count: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        StoragePool.shared.recordLive(-count * MemoryLayout<Float>.stride)
        let raw = UnsafeMutableRawPointer(pointer)
        let byteCount = StoragePool.sizeClass(for: max(count, 1) * MemoryLayout<Float>.stride)
        if !StoragePool.shared.give(raw, byteCount: byteCount) {
            StoragePool.release(raw, byteCount: byteCount)
        }
    }

    /// The elements as a read-only buffer.
    @inlinable public var buffer: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer, count: count)
    }

    /// The elements as a writable buffer.
    @inlinable public var mutableBuffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}
