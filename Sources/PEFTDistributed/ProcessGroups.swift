import Foundation

/// Finds out how the process was launched.
public enum ProcessGroups {
    /// The environment variables by which Open MPI's launcher (`mpirun`, `mpiexec`) tells a process
    /// that it is one rank of a job.
    static let openMPIVariables = ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"]
    /// MPICH's Hydra launcher's, whose library has another binary interface.
    static let mpichVariables = ["PMI_RANK", "PMI_SIZE"]

    /// Whether `environment` says the process was started by Open MPI's launcher.
    public static func isLaunchedByMPI(_ environment: [String: String]) -> Bool {
        openMPIVariables.contains { environment[$0] != nil }
    }

    /// An ``MPIProcessGroup`` when the process runs under Open MPI's `mpirun`, else a
    /// ``SingleProcessGroup``: a program that never meets `mpirun` never loads MPI.
    ///
    /// `PEFT_MPI_LIBRARY` names Open MPI's library when it is not `libmpi.so.40` on the loader's path.
    public static func current(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any ProcessGroup {
        if isLaunchedByMPI(environment) {
            return try MPIProcessGroup.world(library: environment["PEFT_MPI_LIBRARY"])
        }
        if mpichVariables.contains(where: { environment[$0] != nil }) {
            throw DistributedError.unsupportedLauncher(
                "launched by MPICH's mpiexec (PMI_RANK is set); this build speaks Open MPI's "
                    + "binary interface: launch with Open MPI's mpirun (Debian: openmpi-bin)")
        }
        return SingleProcessGroup()
    }
}
