/// Why a data-parallel run cannot start or go on.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// Open MPI's library could not be loaded.
    case libraryUnavailable(library: String, reason: String)
    /// The process was started by a launcher this library cannot talk to.
    case unsupportedLauncher(String)
    /// An MPI call failed.
    case callFailed(call: String, code: Int32, message: String)
    /// MPI runs without the thread support training needs.
    case insufficientThreadSupport(provided: Int32)
    /// The global batch does not split evenly over the processes.
    case batchNotDivisible(batch: Int, worldSize: Int)

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .libraryUnavailable(let library, let reason):
            "launched under mpirun, but Open MPI's \(library) could not be loaded (\(reason)); "
                + "install it with `apt-get install openmpi-bin`, or set PEFT_MPI_LIBRARY to its path"
        case .unsupportedLauncher(let reason): reason
        case .callFailed(let call, let code, let message):
            "\(call) failed with MPI error \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .insufficientThreadSupport(let provided):
            "MPI provides thread level \(provided); training needs MPI_THREAD_FUNNELED (1)"
        case .batchNotDivisible(let batch, let worldSize):
            "--batch-size \(batch) is the global batch and must be divisible by the \(worldSize) "
                + "processes (try \(max(worldSize, batch / worldSize * worldSize)))"
        }
    }
}
