import PEFTTensor

/// What the memory system gives one process, the yardstick for the memory-bound table.
struct MemoryBaseline {
    /// Bytes of the buffers used: the size of the GELU activation, 48 MiB.
    let bytes: Double
    /// Allocating a fresh tensor and writing it once (`Tensor.zeros`), page faults included.
    let freshWrite: Timing
    /// Copying between two buffers that are already mapped (`update(from:count:)`, one thread).
    let warmCopy: Timing

    var freshWriteGBPerSecond: Double { bytes / freshWrite.seconds / 1e9 }
    /// Read plus write.
    var warmCopyGBPerSecond: Double { 2 * bytes / warmCopy.seconds / 1e9 }
}

/// Measures first-touch writing of a fresh allocation against copying between mapped buffers.
///
/// Every op in the memory-bound table returns a fresh tensor, and a large allocation comes straight
/// from `mmap`, so the kernel must fault in and zero each page on first write. On a VM that can cost
/// more than the op's own arithmetic; this pair of figures shows how much.
func runMemoryBaseline(policy: SamplingPolicy) -> MemoryBaseline {
    let shape = [4096, 3072]
    let count = shape.reduce(1, *)
    let source = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let destination = UnsafeMutablePointer<Float>.allocate(capacity: count)
    source.initialize(repeating: 1, count: count)
    destination.initialize(repeating: 0, count: count)
    defer {
        source.deallocate()
        destination.deallocate()
    }
    let timings = measureInterleaved(
        [
            { timed { consume(Tensor.zeros(shape)) } },
            {
                timed {
                    destination.update(from: source, count: count)
                    consume(destination)
                }
            },
        ], policy: policy)
    return MemoryBaseline(
        bytes: Double(count * MemoryLayout<Float>.size), freshWrite: timings[0],
        warmCopy: timings[1])
}
