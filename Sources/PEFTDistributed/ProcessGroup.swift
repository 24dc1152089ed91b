/// The processes of one data-parallel run and the collective operations among them.
///
/// Every process of the group calls the same operations in the same order with buffers of the same
/// size; the calls block until all have made them. ``SingleProcessGroup`` is the group of one process
/// (every operation returns at once); ``MPIProcessGroup`` spans the ranks `mpirun` started.
/// ``ProcessGroups/current()`` picks the one the process was launched as.
///
/// Collective calls come from one thread (the one that created the group).
public protocol ProcessGroup: AnyObject {
    /// This process's index, from 0 to ``size`` − 1.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every process with their element-wise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `values` on every process with their element-wise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Copies `root`'s `values` into every other process's `values`.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws
    /// Returns once every process has called it.
    func barrier() throws
    /// Ends the group (MPI_Finalize); collective calls after it are programming errors.
    func finish() throws
}

extension ProcessGroup {
    /// Whether this is rank 0, the process that prints and writes files.
    public var isMainProcess: Bool { rank == 0 }

    /// The element-wise sum of `values` over all processes.
    public func sum(_ values: [Double]) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        return result
    }

    /// The rows of a global batch of `globalCount` items that this process computes: a contiguous
    /// slice, the same size on every process.
    ///
    /// - Throws: ``DistributedError/batchNotDivisible(batch:worldSize:)`` when ``size`` does not
    ///   divide `globalCount`.
    public func shard(ofBatch globalCount: Int) throws -> Range<Int> {
        guard globalCount % size == 0 else {
            throw DistributedError.batchNotDivisible(batch: globalCount, worldSize: size)
        }
        let share = globalCount / size
        return (rank * share)..<((rank + 1) * share)
    }
}
