import PEFTTensor

/// The median and the fastest of a set of timed runs.
struct Timing {
    /// The median run, the figure the report prints: robust to a stray slow run on a shared machine.
    let median: Duration
    /// The fastest run, printed beside the median so the spread is visible.
    let minimum: Duration
    /// How many runs were timed.
    let runs: Int

    /// The median in seconds.
    var seconds: Double { median.seconds }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

/// How long to sample each operation.
struct SamplingPolicy {
    /// Untimed runs first, so caches, page tables and BLAS's thread pool are warm.
    var warmUpRuns = 3
    /// At least this many timed runs, so the median means something.
    var minimumRuns = 11
    /// Keep sampling until this much time has been spent measuring (or `maximumRuns` is reached).
    var minimumTotalSeconds = 0.6
    /// An upper bound that keeps tiny operations from sampling for ever.
    var maximumRuns = 201
}

/// Times several variants of one benchmark, interleaving their runs.
///
/// Each variant runs once per round, in turn, so a burst of load from another process on the machine
/// slows every variant alike instead of skewing one side of a ratio. A variant returns the duration
/// it measured itself, which lets it leave set-up (such as the forward pass before a timed backward
/// pass) outside the clock.
func measureInterleaved(
    _ variants: [() -> Duration], policy: SamplingPolicy = SamplingPolicy()
) -> [Timing] {
    for _ in 0..<policy.warmUpRuns {
        for variant in variants { _ = variant() }
    }
    var samples = Array(repeating: [Duration](), count: variants.count)
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    while rounds < policy.minimumRuns
        || (rounds < policy.maximumRuns && (clock.now - start).seconds < policy.minimumTotalSeconds)
    {
        for (index, variant) in variants.enumerated() { samples[index].append(variant()) }
        rounds += 1
    }
    return samples.map { runs in
        let sorted = runs.sorted()
        return Timing(median: sorted[sorted.count / 2], minimum: sorted[0], runs: sorted.count)
    }
}

/// Times `body` alone and returns the elapsed wall-clock time.
@inline(__always)
func timed(_ body: () -> Void) -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    body()
    return clock.now - start
}

/// Keeps a result alive and observed, so the optimizer cannot drop the work that produced it.
@inline(never)
func consume(_ tensor: Tensor) {
    if tensor.count > 0 && tensor.storage.pointer[0].isSignalingNaN { print("", terminator: "") }
}

/// Keeps a raw buffer observed, as ``consume(_:)`` does for tensors.
@inline(never)
func consume(_ pointer: UnsafeMutablePointer<Float>) {
    if pointer[0].isSignalingNaN { print("", terminator: "") }
}
