internal import CPEFTBLAS
import Synchronization

/// Counts the GEMMs that run inside a scope, so tests can prove which products backward skips.
public final class GEMMCounter: Sendable {
    private let calls = Atomic<Int>(0)
    @TaskLocal static var current: GEMMCounter?

    /// The number of `sgemm` calls seen so far.
    public var count: Int { calls.load(ordering: .relaxed) }

    /// Runs `body` and returns how many GEMMs it issued on the current task, including those its
    /// ops hand to worker threads (attention heads).
    public static func counting(_ body: () throws -> Void) rethrows -> Int {
        let counter = GEMMCounter()
        try $current.withValue(counter, operation: body)
        return counter.count
    }

    /// Runs `body` on a worker thread counting into `counter`, the counter its caller's task had.
    static func forwarding(_ counter: GEMMCounter?, _ body: () -> Void) {
        guard let counter else { return body() }
        $current.withValue(counter, operation: body)
    }

    fileprivate func increment() { calls.add(1, ordering: .relaxed) }
}

/// Thin wrappers over the CBLAS calls the tensor ops use; the only file that calls BLAS directly.
///
/// OpenBLAS runs on one thread per call and large products are split across the cores here, by
/// rows or columns of `C`. OpenBLAS's own threads spin (`sched_yield`) for a while after each call;
/// on a machine with as many cores as threads that spinning stole the cores from every parallel
/// elementwise op between GEMMs (softmax ran at half speed). The split leaves nothing spinning, and
/// each element of `C` is computed exactly as by one unsplit single-threaded call.
enum BLAS {
    /// Switches OpenBLAS to one thread per call, once, before the first product.
    private static let singleThreadedCalls: Void = openblas_set_num_threads(1)

    /// Products with fewer multiply-adds than this stay on the calling thread: the hand-off would
    /// cost more than half the work.
    static let minimumSplitMultiplyAdds = 1 << 20

    /// `C = alpha·op(A)·op(B) + beta·C` in row-major order, with transposes as flags, split across
    /// the cores when large.
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let parts = ParallelLoops.processorCount
        guard parts > 1, m * n * k >= minimumSplitMultiplyAdds, max(m, n) >= 32 else {
            return gemmOnThisThread(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        GEMMCounter.current?.increment()
        let region = OperationProfiler.enter(.gemm)
        defer { region.end() }
        // Split the longer side of C in parts of a multiple of 16 (the kernels' widest unroll).
        let splitsRows = m >= n
        let length = splitsRows ? m : n
        let chunk = ((length + parts - 1) / parts + 15) / 16 * 16
        ParallelLoops.forEachTask(count: (length + chunk - 1) / chunk) { part in
            let start = part * chunk
            let count = min(chunk, length - start)
            if splitsRows {
                callOpenBLAS(
                    transposeA, transposeB, m: count, n: n, k: k, alpha: alpha,
                    a: a + (transposeA ? start : start * lda), lda: lda, b: b, ldb: ldb,
                    beta: beta, c: c + start * ldc, ldc: ldc)
            } else {
                callOpenBLAS(
                    transposeA, transposeB, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda,
                    b: b + (transposeB ? start * ldb : start), ldb: ldb, beta: beta,
                    c: c + start, ldc: ldc)
            }
        }
    }

    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` on the calling thread
    /// only, as small products and the per-head products of attention (already one per core) run.
    @inline(__always)
    static func gemmOnThisThread(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        GEMMCounter.current?.increment()
        guard m > 0, n > 0 else { return }
        let region = OperationProfiler.enter(.gemm)
        defer { region.end() }
        if k == 0 {
            // BLAS leaves C untouched when k = 0 with beta = 0 on some builds; make it exact.
            for row in 0..<m {
                for column in 0..<n {
                    c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column]
                }
            }
            return
        }
        callOpenBLAS(
            transposeA, transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
            ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    @inline(__always)
    private static func callOpenBLAS(
        _ transposeA: Bool, _ transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreadedCalls
        if m == 1 {
            // One row (a decoding step): sgemm would pack all of B, copying every weight per token;
            // sgemv streams it once. The row of A is x, with a stride of lda when A is transposed.
            if beta == 0 { c.initialize(repeating: 0, count: n) }
            cblas_sgemv(
                CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans,
                Int32(transposeB ? n : k), Int32(transposeB ? k : n), alpha, b, Int32(ldb), a,
                Int32(transposeA ? lda : 1), beta == 0 ? 1 : beta, c, 1)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y += alpha·x`.
    @inline(__always)
    static func axpy(
        count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    ) {
        _ = singleThreadedCalls
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The number of threads a large product runs on.
    static var threadCount: Int { ParallelLoops.processorCount }
}

/// The number of threads the tensor library runs a large GEMM on (one OpenBLAS call per thread).
public var blasThreadCount: Int { BLAS.threadCount }

/// Single-precision GEMM on caller-owned buffers, through the same split across the cores as every
/// tensor product, for benchmarks that compare the tensor API with BLAS itself: `C[m, n] = A[m, k]·B[k, n]`
/// in row-major order.
public func rawSGEMM(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>
) {
    BLAS.gemm(
        transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c,
        ldc: n)
}
