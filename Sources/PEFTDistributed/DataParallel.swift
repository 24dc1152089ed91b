import PEFTNN
import PEFTTensor

/// Keeps a model's trainable parameters identical across a ``ProcessGroup``: the same starting values
/// on every rank, and after each backward pass the mean of the ranks' gradients.
///
/// Only the parameters given (with PEFT, the adapter's) cross the network, packed into buckets of
/// ``bucketCapacity`` floats, so a LoRA step costs one all-reduce call; frozen weights never move.
///
/// ```swift
/// let group = try ProcessGroups.current()
/// let parallel = DataParallel(group: group, parameters: peft.trainableParameters)
/// try parallel.broadcastParameters()            // rank 0's initial adapter everywhere
/// for batch in batches {
///     let rows = try group.shard(ofBatch: batch.count)
///     loss(Array(batch[rows])).backward()     // this rank's share
///     try parallel.averageGradients()
///     optimizer.step()
///     optimizer.zeroGradients()
/// }
/// ```
public final class DataParallel {
    /// The processes that train together.
    public let group: any ProcessGroup
    /// What is kept in step, in the same order on every rank.
    public let parameters: [Parameter]
    /// The most floats sent in one all-reduce call.
    public let bucketCapacity: Int
    /// Floats all-reduced so far by ``averageGradients()`` (per rank, in each direction).
    public private(set) var reducedElements = 0
    /// All-reduce calls made so far by ``averageGradients()``.
    public private(set) var reductionCalls = 0
    private var bucket: [Float]

    /// Keeps `parameters` in step across `group`; `bucketCapacity` (default 4 Mi floats, 16 MiB)
    /// bounds the staging buffer.
    public init(group: any ProcessGroup, parameters: [Parameter], bucketCapacity: Int = 1 << 22) {
        precondition(bucketCapacity > 0, "DataParallel: bucketCapacity \(bucketCapacity)")
        var seen = Set<ObjectIdentifier>()
        self.group = group
        self.parameters = parameters.filter { seen.insert(ObjectIdentifier($0)).inserted }
        self.bucketCapacity = bucketCapacity
        let total = self.parameters.reduce(0) { $0 + $1.count }
        bucket = group.size > 1 ? [Float](repeating: 0, count: min(total, bucketCapacity)) : []
    }

    /// The number of floats one step all-reduces: every parameter's gradient once.
    public var elementsPerStep: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Overwrites every rank's parameter values with rank `root`'s.
    public func broadcastParameters(from root: Int = 0) throws {
        guard group.size > 1 else { return }
        for parameter in parameters {
            var failure: (any Error)?
            parameter.updateInPlace {
                do { try group.broadcast($0, from: root) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// Replaces each parameter's gradient with its mean over the ranks. A parameter that received no
    /// gradient on a rank counts as zero there, and has one afterwards.
    public func averageGradients() throws {
        guard group.size > 1 else { return }
        let scale = 1 / Float(group.size)
        var start = 0
        while start < parameters.count {
            // Whole parameters per bucket; a parameter larger than the bucket goes alone, in pieces.
            var end = start
            var filled = 0
            while end < parameters.count, filled + parameters[end].count <= bucket.count {
                filled += parameters[end].count
                end += 1
            }
            if end == start {
                try averageLarge(parameters[start], scale: scale)
                start += 1
                continue
            }
            try bucket.withUnsafeMutableBufferPointer { staging in
                var offset = 0
                for parameter in parameters[start..<end] {
                    let target = UnsafeMutableBufferPointer(
                        rebasing: staging[offset..<(offset + parameter.count)])
                    copyGradient(of: parameter, into: target)
                    offset += parameter.count
                }
                let used = UnsafeMutableBufferPointer(rebasing: staging[0..<offset])
                try group.allReduceSum(used)
                reductionCalls += 1
                reducedElements += offset
                offset = 0
                for parameter in parameters[start..<end] {
                    let source = UnsafeBufferPointer(
                        rebasing: staging[offset..<(offset + parameter.count)])
                    let mean = TensorStorage(count: parameter.count)
                    for index in 0..<parameter.count { mean.pointer[index] = source[index] * scale }
                    parameter.replaceGradient(with: Tensor(shape: parameter.shape, storage: mean))
                    offset += parameter.count
                }
            }
            start = end
        }
    }

    private func averageLarge(_ parameter: Parameter, scale: Float) throws {
        let storage = TensorStorage(count: parameter.count)
        let buffer = storage.mutableBuffer
        copyGradient(of: parameter, into: buffer)
        var offset = 0
        while offset < buffer.count {
            let end = min(buffer.count, offset + bucketCapacity)
            try group.allReduceSum(UnsafeMutableBufferPointer(rebasing: buffer[offset..<end]))
            reductionCalls += 1
            reducedElements += end - offset
            offset = end
        }
        for index in buffer.indices { buffer[index] *= scale }
        parameter.replaceGradient(with: Tensor(shape: parameter.shape, storage: storage))
    }

    private func copyGradient(
        of parameter: Parameter, into target: UnsafeMutableBufferPointer<Float>
    ) {
        guard let gradient = parameter.gradient else {
            target.update(repeating: 0)
            return
        }
        target.baseAddress!.update(from: gradient.storage.pointer, count: parameter.count)
    }
}
