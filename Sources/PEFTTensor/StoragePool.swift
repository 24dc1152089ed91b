import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Freed tensor buffers kept for reuse, keyed by exact size.
///
/// A training step allocates the same large buffers every step. Fresh memory from the system costs a
/// page fault per 4 KiB on its first write (about 2 GB/s here, against about 40 GB/s for writing memory
/// already mapped), so handing last step's buffers back instead of returning them to the system makes
/// large elementwise ops several times faster. Only buffers of at least ``minimumBytes`` are kept, at most
/// ``capacityBytes`` in all and ``maximumPerSize`` of one size; the rest go back to the allocator.
final class StoragePool: Sendable {
    static let shared = StoragePool()

    /// Smaller buffers come from malloc's own free lists, which are fast already.
    let minimumBytes = 256 * 1024
    /// The most memory the pool holds between uses.
    let capacityBytes = 1 << 30
    /// The most buffers of one size the pool holds.
    let maximumPerSize = 32

    /// A raw buffer owned by the pool; only one thread touches it at a time, under the lock.
    private struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        /// The ``State/epoch`` in which the buffer was given back.
        let epoch: Int
    }

    private struct State {
        var free: [Int: [Buffer]] = [:]
        var heldBytes = 0
        /// Counts ``trim()`` calls: a buffer not used again within one epoch is given back.
        var epoch = 0
    }

    private let state = Mutex(State())

    /// The bytes of tensor storage alive now, and the most alive at once since the last reset.
    private let liveBytes = Atomic<Int>(0)
    private let peakLiveBytes = Atomic<Int>(0)

    /// Counts `byteCount` bytes of storage coming into use (positive) or going out of it (negative).
    func recordLive(_ byteCount: Int) {
        let now = liveBytes.add(byteCount, ordering: .relaxed).newValue
        guard byteCount > 0 else { return }
        var peak = peakLiveBytes.load(ordering: .relaxed)
        while now > peak {
            let (exchanged, original) = peakLiveBytes.compareExchange(
                expected: peak, desired: now, ordering: .relaxed)
            if exchanged { break }
            peak = original
        }
    }

    /// The most tensor storage alive at once since ``resetPeak()``.
    var peakLive: Int { peakLiveBytes.load(ordering: .relaxed) }

    /// Starts the peak over from what is alive now.
    func resetPeak() { peakLiveBytes.store(liveBytes.load(ordering: .relaxed), ordering: .relaxed) }

    /// The size a buffer of `byteCount` bytes is allocated and pooled at: large sizes round up to one of
    /// eight steps per power of two, so batches of nearby lengths reuse each other's buffers. The
    /// rounded-up tail of a mapping is never written, so it never becomes resident.
    static func sizeClass(for byteCount: Int) -> Int {
        guard byteCount >= shared.minimumBytes else { return byteCount }
        let step = 1 << (Int.bitWidth - 1 - byteCount.leadingZeroBitCount - 3)
        return (byteCount + step - 1) / step * step
    }

    /// A pooled buffer of exactly `byteCount` bytes, or `nil`.
    func take(byteCount: Int) -> UnsafeMutableRawPointer? {
        guard byteCount >= minimumBytes else { return nil }
        return state.withLock { state in
            guard let buffer = state.free[byteCount]?.popLast() else { return nil }
            state.heldBytes -= byteCount
            return buffer.pointer
        }
    }

    /// Keeps `pointer` for reuse; `false` means the caller must free it.
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
        guard byteCount >= minimumBytes else { return false }
        return state.withLock { state in
            let buffer = Buffer(pointer: pointer, epoch: state.epoch)
            guard state.heldBytes + byteCount <= capacityBytes,
                state.free[byteCount, default: []].count < maximumPerSize
            else { return false }
            state.free[byteCount, default: []].append(buffer)
            state.heldBytes += byteCount
            return true
        }
    }

    /// Frees every buffer the pool holds.
    func drain() {
        trim()
        trim()
    }

    /// The bytes the pool holds now.
    var heldBytes: Int { state.withLock { $0.heldBytes } }

    /// Frees every buffer that has waited unused since the previous call.
    ///
    /// Called once a training step, this keeps the buffers each step reuses and drops the sizes that
    /// went out of use (a batch of another length makes tensors of other sizes), which would otherwise
    /// pile up to ``capacityBytes``.
    func trim() {
        let region = OperationProfiler.enter(.allocation)
        defer { region.end() }
        let (stale, staleSizes): ([Buffer], [(Int, Int)]) = state.withLock { state in
            var stale: [Buffer] = []
            var sizes: [(Int, Int)] = []
            for (size, buffers) in state.free {
                let old = buffers.filter { $0.epoch < state.epoch }
                let kept = buffers.filter { $0.epoch >= state.epoch }
                state.heldBytes -= old.count * size
                state.free[size] = kept.isEmpty ? nil : kept
                stale += old
                sizes.append((size, old.count))
            }
            state.epoch += 1
            return (stale, sizes)
        }
        var index = 0
        for (size, count) in staleSizes {
            for buffer in stale[index..<(index + count)] {
                Self.release(buffer.pointer, byteCount: size)
            }
            index += count
        }
    }

    /// Fresh memory for `byteCount` bytes, 64-byte aligned: a buffer of its own mapping when large,
    /// so that freeing it gives the pages back to the system at once (malloc would keep freed large
    /// blocks in its heap and the process's resident size would only grow).
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= shared.minimumBytes else {
            return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        }
        guard
            let mapped = mmap(
                nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else {
            preconditionFailure("TensorStorage: out of memory mapping \(byteCount) bytes")
        }
        return mapped
    }

    /// Gives memory from ``allocate(byteCount:)`` back.
    static func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount >= shared.minimumBytes {
            munmap(pointer, byteCount)
        } else {
            pointer.deallocate()
        }
    }
}

/// The reuse pool behind tensor storage, as a training loop sees it.
public enum TensorMemoryPool {
    /// The bytes held for reuse: freed buffers kept because the next step will want them again.
    public static var heldBytes: Int { StoragePool.shared.heldBytes }

    /// Gives back to the system every pooled buffer unused since the previous call; call it once a
    /// training step.
    public static func trim() { StoragePool.shared.trim() }

    /// Gives back every pooled buffer: after a one-off phase (building a model) whose buffer sizes
    /// will not come again.
    public static func drain() { StoragePool.shared.drain() }

    /// The most bytes of tensor storage (parameters, gradients, optimizer state, activations and
    /// temporaries; not pooled buffers or low-precision weights) alive at once since ``resetPeak()``.
    public static var peakLiveBytes: Int { StoragePool.shared.peakLive }

    /// Starts ``peakLiveBytes`` over from the storage alive now.
    public static func resetPeak() { StoragePool.shared.resetPeak() }
}
