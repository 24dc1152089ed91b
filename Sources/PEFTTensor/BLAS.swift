internal import CPEFTBLAS

/// Counts the GEMMs that run inside a scope, so tests can prove which products backward skips.
public final class GEMMCounter: @unchecked Sendable {
    /// The number of `sgemm` calls seen so far.
    public private(set) var count = 0
    @TaskLocal static var current: GEMMCounter?

    /// Runs `body` and returns how many GEMMs it issued on the current task.
    public static func counting(_ body: () throws -> Void) rethrows -> Int {
        let counter = GEMMCounter()
        try $current.withValue(counter, operation: body)
        return counter.count
    }

    fileprivate func increment() { count += 1 }
}

/// Thin wrappers over the CBLAS calls the tensor ops use; the only file that calls BLAS directly.
enum BLAS {
    /// `C = alpha·op(A)·op(B) + beta·C` in row-major order, with transposes as flags.
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        GEMMCounter.current?.increment()
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k = 0 with beta = 0 on some builds; make it exact.
            for row in 0..<m {
                for column in 0..<n {
                    c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column]
                }
            }
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
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The number of threads OpenBLAS uses.
    static var threadCount: Int { Int(openblas_get_num_threads()) }
}

/// The number of threads the BLAS library runs GEMMs on.
public var blasThreadCount: Int { BLAS.threadCount }

/// Raw single-precision GEMM on caller-owned buffers, for benchmarks that compare the tensor API with
/// BLAS itself: `C[m, n] = A[m, k]·B[k, n]` in row-major order.
public func rawSGEMM(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b,
        Int32(n), 0,
        c, Int32(n))
}
