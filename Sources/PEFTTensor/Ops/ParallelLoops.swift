import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Splits large row-wise and elementwise ops across the machine's cores.
///
/// Work is cut into blocks whose boundaries depend only on the tensor's shape, never on the number
/// of threads, and each block is computed start to finish by one thread; any cross-block reduction
/// is summed afterwards in block order. So the results are bit-for-bit the same on one core or many.
enum ParallelLoops {
    /// Below this many elements an op stays on the calling thread: the hand-off costs more than the
    /// work it would save.
    static let minimumParallelElements = 1 << 16

    /// The number of processors this process may run on, read once: those online, or fewer when
    /// the process is bound to some (as `mpirun` binds each rank to its own core).
    static let processorCount: Int = {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return min(online, allowedProcessorCount() ?? online)
    }()

    /// The length of `Cpus_allowed_list` in `/proc/self/status` ("0-3,6" is 5), or `nil` off Linux.
    /// Glibc's `sched_getaffinity` is not visible to Swift without `_GNU_SOURCE`.
    static func allowedProcessorCount() -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        let key = "Cpus_allowed_list:"
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix(key) else { continue }
            var count = 0
            for range in text.dropFirst(key.count).split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap {
                    Int($0.filter(\.isNumber))
                }
                guard let first = bounds.first else { return nil }
                count += (bounds.last ?? first) - first + 1
            }
            return count > 0 ? count : nil
        }
        return nil
    }

    /// Runs `body` on each block of `rows` rows, `rowsPerBlock` at a time, in parallel when the
    /// whole job has at least ``minimumParallelElements`` elements.
    ///
    /// `body` receives the block's index and row range; blocks must not write to shared memory
    /// except through their own rows or their own slot of a per-block buffer.
    static func forEachBlock(
        rows: Int, rowsPerBlock: Int, elementsPerRow: Int,
        _ body: (_ block: Int, _ rows: Range<Int>) -> Void
    ) {
        let blockRows = max(1, rowsPerBlock)
        let blockCount = (rows + blockRows - 1) / blockRows
        func run(_ block: Int) {
            let start = block * blockRows
            body(block, start..<min(rows, start + blockRows))
        }
        if blockCount > 1 && processorCount > 1
            && rows * elementsPerRow >= minimumParallelElements
        {
            withoutActuallyEscaping(run) { run in
                let task = UncheckedSendable(run)
                DispatchQueue.concurrentPerform(iterations: blockCount) { task.value($0) }
            }
        } else {
            for block in 0..<blockCount { run(block) }
        }
    }

    /// Runs `body(task)` for each of `count` tasks on every core, whatever their size: for callers
    /// that have decided the work is worth splitting.
    static func forEachTask(count: Int, _ body: (_ task: Int) -> Void) {
        guard count > 1 && processorCount > 1 else {
            for task in 0..<count { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { task.value($0) }
        }
    }

    /// The number of blocks ``forEachBlock(rows:rowsPerBlock:elementsPerRow:_:)`` will use.
    static func blockCount(rows: Int, rowsPerBlock: Int) -> Int {
        let blockRows = max(1, rowsPerBlock)
        return (rows + blockRows - 1) / blockRows
    }

    /// Rows per block such that a block holds about `targetElements` elements (at least one row).
    static func rowsPerBlock(elementsPerRow: Int, targetElements: Int = 1 << 15) -> Int {
        max(1, targetElements / max(1, elementsPerRow))
    }
}

/// Runs `body` over `0..<count` in fixed blocks of 32K elements, in parallel when that pays.
///
/// The blocks depend only on `count`, so an elementwise `body` gives the same result on any number of
/// threads; `body` must write only inside its own range.
@inline(__always)
public func forEachElementBlock(count: Int, _ body: (Range<Int>) -> Void) {
    let blockSize = 1 << 15
    ParallelLoops.forEachBlock(rows: count, rowsPerBlock: blockSize, elementsPerRow: 1) {
        _, range in
        body(range)
    }
}

/// Carries a closure into `concurrentPerform`, which wants a `Sendable` one. The closures passed here
/// write only to disjoint rows or per-block slots, which is what makes the promise true.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
