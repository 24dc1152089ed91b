import Synchronization

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
    }

    private struct State {
        var free: [Int: [Buffer]] = [:]
        var heldBytes = 0
    }

    private let state = Mutex(State())

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
        let buffer = Buffer(pointer: pointer)
        return state.withLock { state in
            guard state.heldBytes + byteCount <= capacityBytes,
                state.free[byteCount, default: []].count < maximumPerSize
            else { return false }
            state.free[byteCount, default: []].append(buffer)
            state.heldBytes += byteCount
            return true
        }
    }
}
