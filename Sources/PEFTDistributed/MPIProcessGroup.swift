import CPEFTMPI
import Foundation

/// The ranks of an Open MPI job (`MPI_COMM_WORLD`), with Open MPI loaded at run time.
///
/// Nothing of MPI is linked into the package: the first ``world(library:)`` loads `libmpi.so.40`
/// with `dlopen` and initialises MPI, so programs that never run under `mpirun` need no MPI
/// installed. MPI starts once per process; every call returns the same group, and ``finish()``
/// ends it for good.
public final class MPIProcessGroup: ProcessGroup {
    /// Open MPI 4's and 5's library, as the runtime package (Debian's `libopenmpi3`) installs it.
    public static let defaultLibrary = "libmpi.so.40"

    nonisolated(unsafe) private static var started: MPIProcessGroup?
    private static let lock = NSLock()

    /// This process's rank.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    private var isFinished = false

    /// The world group, loading and initialising Open MPI on first use.
    public static func world(library: String? = nil) throws -> MPIProcessGroup {
        try lock.withLock {
            if let started { return started }
            let library = library ?? defaultLibrary
            var reason = [CChar](repeating: 0, count: 512)
            guard peft_mpi_load(library, &reason, reason.count) == 0 else {
                throw DistributedError.libraryUnavailable(
                    library: library, reason: text(of: reason))
            }
            var provided: Int32 = 0
            try check(peft_mpi_initialize(&provided), "MPI_Init_thread")
            guard provided >= 1 else {
                throw DistributedError.insufficientThreadSupport(provided: provided)
            }
            var rank: Int32 = 0
            var size: Int32 = 0
            try check(peft_mpi_rank(&rank), "MPI_Comm_rank")
            try check(peft_mpi_size(&size), "MPI_Comm_size")
            let group = MPIProcessGroup(rank: Int(rank), size: Int(size))
            started = group
            return group
        }
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// `MPI_Allreduce` with `MPI_SUM`, in place.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try Self.check(
            peft_mpi_allreduce_sum_float(base, Int64(values.count)), "MPI_Allreduce (float)")
    }

    /// `MPI_Allreduce` with `MPI_SUM`, in place.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try Self.check(
            peft_mpi_allreduce_sum_double(base, Int64(values.count)), "MPI_Allreduce (double)")
    }

    /// `MPI_Bcast` from `root`.
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {
        precondition(
            (0..<size).contains(root), "MPIProcessGroup.broadcast: root \(root) of \(size) ranks")
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try Self.check(
            peft_mpi_broadcast_float(base, Int64(values.count), Int32(root)), "MPI_Bcast")
    }

    /// `MPI_Barrier`.
    public func barrier() throws { try Self.check(peft_mpi_barrier(), "MPI_Barrier") }

    /// `MPI_Finalize`; later calls do nothing.
    public func finish() throws {
        guard !isFinished else { return }
        isFinished = true
        try Self.check(peft_mpi_finalize(), "MPI_Finalize")
    }

    /// Ends every rank of the job with `code` (`MPI_Abort`): a rank that fails alone would
    /// otherwise leave the others waiting in a collective call for ever.
    public func abort(code: Int32) -> Never {
        peft_mpi_abort(code)
        exit(code)
    }

    /// A NUL-terminated C string filled in by the shim.
    private static func text(of characters: [CChar]) -> String {
        let bytes = characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        peft_mpi_error_string(code, &text, Int32(text.count))
        throw DistributedError.callFailed(call: call, code: code, message: Self.text(of: text))
    }
}
