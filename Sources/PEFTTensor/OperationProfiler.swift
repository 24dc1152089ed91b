import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a span of a training step was spent on, as ``OperationProfiler`` sorts it.
public enum OperationKind: String, CaseIterable, Sendable {
    /// Weight products: every `sgemm` outside attention and the LoRA path, the LM head's included.
    case gemm
    /// Multi-head attention: its per-head products, mask, softmax and their backward.
    case attention
    /// LoRA's own work next to the frozen product: the rank-`r` GEMMs, dropout and DoRA's norms.
    case lora
    /// Layer and RMS norms.
    case normalization
    /// Activations, arithmetic, broadcasting, softmax outside attention, dropout, rotary embeddings.
    case elementwise
    /// Cross-entropy and the softmax over the vocabulary (the head's GEMMs count as ``gemm``).
    case crossEntropy = "cross_entropy"
    /// Gathers, slices, concatenations and other copies that only move values.
    case dataMovement = "data_movement"
    /// The optimizer's update and zeroing of gradients.
    case optimizer
    /// Taking tensor buffers from the pool or the system, and trimming the pool.
    case allocation
    /// The backward engine: graph ordering and gradient accumulation.
    case autograd
    /// Whatever no op claimed: model code between ops, the training loop.
    case other
}

/// Seconds per ``OperationKind`` over one recording.
public struct OperationProfile: Sendable {
    /// Exclusive seconds per kind: time inside a nested region counts only for the innermost kind.
    public var seconds: [OperationKind: Double]

    /// The recording's wall-clock length, the sum of every kind.
    public var totalSeconds: Double { seconds.values.reduce(0, +) }
}

/// Wall-clock time per op kind on one thread, for finding where a training step goes.
///
/// Ops mark themselves with ``enter(_:)``; a recording started with ``start()`` charges every
/// nanosecond on the starting thread to the innermost open region (or ``OperationKind/other``), so
/// the kinds add up to the elapsed time. Work other threads do for an op (parallel loops, BLAS
/// threads) is inside that op's wall time. Backward closures run under the kind that was open when
/// their op ran forward. Attention, LoRA and the optimizer claim the GEMMs and elementwise work inside
/// them. When no recording runs an op pays one load of a flag.
public enum OperationProfiler {
    /// Read by every op on every thread, so atomic; the rest is touched only by the recording thread.
    private static let recording = Atomic<Bool>(false)
    private static let recordingThread = Atomic<UInt>(0)
    nonisolated(unsafe) private static var openKinds: [OperationKind] = []
    nonisolated(unsafe) private static var nanoseconds = [UInt64](
        repeating: 0, count: OperationKind.allCases.count)
    nonisolated(unsafe) private static var lastCharge: UInt64 = 0
    private static let kindIndex = Dictionary(
        uniqueKeysWithValues: OperationKind.allCases.enumerated().map { ($1, $0) })

    /// An open region; ``end()`` closes it, once. A region that recorded nothing ends for free.
    public struct Region {
        let isOpen: Bool

        /// Closes the region, charging the time since the last change to its kind.
        @inline(__always)
        public func end() {
            if isOpen { OperationProfiler.close() }
        }
    }

    /// Starts recording on the calling thread, from zero. Only this thread's time is charged.
    public static func start() {
        recordingThread.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .relaxed)
        openKinds = []
        nanoseconds = [UInt64](repeating: 0, count: OperationKind.allCases.count)
        lastCharge = now()
        recording.store(true, ordering: .releasing)
    }

    /// Stops recording and returns the seconds charged to each kind since ``start()``.
    @discardableResult
    public static func stop() -> OperationProfile {
        guard isRecording, onRecordingThread else { return OperationProfile(seconds: [:]) }
        charge(openKinds.last ?? .other)
        recording.store(false, ordering: .releasing)
        var seconds: [OperationKind: Double] = [:]
        for (index, kind) in OperationKind.allCases.enumerated() where nanoseconds[index] > 0 {
            seconds[kind] = Double(nanoseconds[index]) / 1e9
        }
        return OperationProfile(seconds: seconds)
    }

    /// Opens a region of `kind` until the returned region's `end()`.
    ///
    /// Inside attention, LoRA or the optimizer only ``OperationKind/allocation`` opens a region of
    /// its own; the rest is the enclosing op's.
    @inline(__always)
    public static func enter(_ kind: OperationKind) -> Region {
        guard isRecording else { return Region(isOpen: false) }
        return Region(isOpen: open(kind))
    }

    /// Runs `body` inside a region of `kind`.
    @inline(__always)
    public static func measure<Result>(_ kind: OperationKind, _ body: () throws -> Result) rethrows
        -> Result
    {
        let region = enter(kind)
        defer { region.end() }
        return try body()
    }

    /// The kind a backward closure recorded now should run under, or `nil` when not recording.
    static var currentKind: OperationKind? {
        guard isRecording, onRecordingThread else { return nil }
        return openKinds.last ?? .other
    }

    @inline(__always)
    static var isRecording: Bool { recording.load(ordering: .acquiring) }

    private static var onRecordingThread: Bool {
        recordingThread.load(ordering: .relaxed)
            == UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    private static func open(_ kind: OperationKind) -> Bool {
        guard onRecordingThread else { return false }
        let current = openKinds.last
        if current == kind { return false }
        if let current, current.claimsNestedWork, kind != .allocation { return false }
        charge(current ?? .other)
        openKinds.append(kind)
        return true
    }

    private static func close() {
        guard let kind = openKinds.popLast() else { return }
        charge(kind)
    }

    private static func charge(_ kind: OperationKind) {
        let time = now()
        nanoseconds[kindIndex[kind]!] &+= time &- lastCharge
        lastCharge = time
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

extension OperationKind {
    /// Kinds whose regions keep the GEMMs and elementwise work inside them.
    fileprivate var claimsNestedWork: Bool {
        switch self {
        case .attention, .lora, .optimizer: true
        default: false
        }
    }
}
