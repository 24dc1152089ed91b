import PEFTDistributed
import PEFTNN
import PEFTTensor
import Testing

/// A stand-in for a two-rank job in one process: the other rank is given fixed gradients, so the
/// sums, the buckets and the calls can be checked without MPI.
final class TwoRankStandIn: ProcessGroup {
    /// What the other rank contributes to each all-reduce, consumed in order.
    var otherRank: [Float]
    private(set) var calls: [Int] = []
    private(set) var broadcasts = 0
    init(otherRank: [Float]) { self.otherRank = otherRank }

    var rank: Int { 0 }
    var size: Int { 2 }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        calls.append(values.count)
        for index in values.indices { values[index] += otherRank.removeFirst() }
    }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        for index in values.indices { values[index] *= 2 }
    }
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {
        broadcasts += 1
    }
    func barrier() throws {}
    func finish() throws {}
}

@Suite("Data parallelism without MPI")
struct DataParallelTests {
    /// Three trainable parameters with gradients 1, 2, ... and one that received none.
    func parameters() -> [Parameter] {
        let shapes = [[2, 3], [4], [5], [1]]
        var next: Float = 1
        return shapes.enumerated().map { index, shape in
            let parameter = Parameter(.zeros(shape))
            if index != 3 {
                let count = shape.reduce(1, *)
                parameter.replaceGradient(
                    with: Tensor(shape: shape, scalars: (0..<count).map { Float($0) + next }))
                next += Float(count)
            }
            return parameter
        }
    }

    @Test("One process: nothing is sent and the gradients stay as they are")
    func singleProcess() throws {
        let group = SingleProcessGroup()
        let parameters = parameters()
        let before = parameters.map { $0.gradient?.scalars }
        let parallel = DataParallel(group: group, parameters: parameters)
        try parallel.broadcastParameters()
        try parallel.averageGradients()
        #expect(parameters.map { $0.gradient?.scalars } == before)
        #expect(parallel.reductionCalls == 0 && parallel.elementsPerStep == 16)
        #expect(try group.shard(ofBatch: 8) == 0..<8)
    }

    @Test("Gradients become the ranks' mean, bucketed, a missing one counting as zero")
    func averaging() throws {
        let parameters = parameters()
        // The other rank's gradient is 10 × the element index, over all 16 floats in order.
        let group = TwoRankStandIn(otherRank: (0..<16).map { Float($0) * 10 })
        // Buckets of 10: [6 + 4], then [5 + 1].
        let parallel = DataParallel(group: group, parameters: parameters, bucketCapacity: 10)
        try parallel.averageGradients()
        #expect(group.calls == [10, 6])
        #expect(parallel.reducedElements == 16 && parallel.reductionCalls == 2)
        let flat = parameters.flatMap { $0.gradient!.scalars }
        let mine: [Float] = (0..<15).map { Float($0) + 1 } + [0]
        let expected: [Float] = (0..<16).map { index in (mine[index] + Float(index) * 10) / 2 }
        #expect(flat == expected)
    }

    @Test("A parameter larger than the bucket is reduced alone, in pieces")
    func largeParameter() throws {
        let parameter = Parameter(.zeros([7]))
        parameter.replaceGradient(
            with: Tensor(shape: [7], scalars: [Float](repeating: 4, count: 7)))
        let group = TwoRankStandIn(otherRank: [Float](repeating: 2, count: 7))
        let parallel = DataParallel(
            group: group, parameters: [parameter, parameter], bucketCapacity: 3)
        try parallel.averageGradients()
        #expect(group.calls == [3, 3, 1])
        #expect(parameter.gradient!.scalars == [Float](repeating: 3, count: 7))
        try parallel.broadcastParameters()
        #expect(group.broadcasts == 1, "the parameter listed twice is sent once")
    }

    @Test("A global batch that does not split evenly is an error naming --batch-size")
    func uneven() throws {
        let group = TwoRankStandIn(otherRank: [])
        #expect(try group.shard(ofBatch: 6) == 0..<3)
        #expect(throws: DistributedError.batchNotDivisible(batch: 5, worldSize: 2)) {
            try group.shard(ofBatch: 5)
        }
        #expect(
            DistributedError.batchNotDivisible(batch: 5, worldSize: 2).description.contains(
                "--batch-size 5"))
        #expect(try group.sum([1.5, 2]) == [3, 4])
    }
}

@Suite("How the process was launched")
struct LaunchTests {
    @Test("Without mpirun's variables the group is this process alone, and MPI is never loaded")
    func plain() throws {
        let group = try ProcessGroups.current(environment: ["PATH": "/usr/bin"])
        #expect(group is SingleProcessGroup && group.size == 1 && group.isMainProcess)
        #expect(!ProcessGroups.isLaunchedByMPI(["PMIX_RANK": "0"]))
    }

    @Test("Under mpirun, a missing MPI library is an error naming it and the package to install")
    func missingLibrary() throws {
        let environment = [
            "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0",
            "PEFT_MPI_LIBRARY": "/nonexistent/libmpi.so.40",
        ]
        #expect(ProcessGroups.isLaunchedByMPI(environment))
        do {
            _ = try ProcessGroups.current(environment: environment)
            Issue.record("loaded a library that does not exist")
        } catch let error as DistributedError {
            guard case .libraryUnavailable(let library, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(library == "/nonexistent/libmpi.so.40")
            #expect(error.description.contains("openmpi-bin"))
        }
    }

    @Test("MPICH's launcher is refused with the reason")
    func mpich() throws {
        #expect(throws: DistributedError.self) {
            try ProcessGroups.current(environment: ["PMI_RANK": "0", "PMI_SIZE": "2"])
        }
    }
}
