import PEFTTensor

/// One GEMM shape, `C[M, N] = A[M, K]·B[K, N]`, and what it stands for.
struct GEMMShape {
    let m: Int
    let k: Int
    let n: Int
    let label: String
    /// Also time `linear` with a PyTorch-layout `[N, K]` weight on this shape.
    var includesLinear = false

    /// Multiply-adds count twice: `2·M·N·K`.
    var floatingPointOperations: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// The tensor API's GEMM throughput beside raw `cblas_sgemm` on one shape.
struct GEMMResult {
    let shape: GEMMShape
    let operation: String
    let tensor: Timing
    let raw: Timing

    var tensorGFLOPS: Double { shape.floatingPointOperations / tensor.seconds / 1e9 }
    var rawGFLOPS: Double { shape.floatingPointOperations / raw.seconds / 1e9 }
    /// Raw time over tensor time: 100% means the tensor API adds nothing.
    var ratio: Double { raw.seconds / tensor.seconds }
}

/// The shapes the foundation issue asks for: square GEMMs and GPT-2's fused QKV projection.
let gemmShapes = [
    GEMMShape(m: 768, k: 768, n: 768, label: "square, GPT-2 small width"),
    GEMMShape(m: 2048, k: 2048, n: 2048, label: "square, large"),
    GEMMShape(
        m: 512, k: 768, n: 2304, label: "GPT-2 c_attn: 512 tokens, 768 → 2304",
        includesLinear: true),
]

/// Times `matmul` (and `linear` where asked) against `rawSGEMM` on every shape.
///
/// The tensor side allocates its output on every call, as real code does; the raw side writes into a
/// buffer allocated once. Runs of the two are interleaved, so the ratio survives background load.
func runGEMMBenchmarks(policy: SamplingPolicy) -> [GEMMResult] {
    var generator = RandomGenerator(seed: 42)
    var results: [GEMMResult] = []
    for shape in gemmShapes {
        let a = Tensor.normal([shape.m, shape.k], using: &generator)
        let b = Tensor.normal([shape.k, shape.n], using: &generator)
        // nn.Linear's [out, in] layout: the GEMM reads it transposed, no copy is made.
        let weight = Tensor.normal([shape.n, shape.k], using: &generator)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: shape.m * shape.n)
        defer { c.deallocate() }

        var variants: [() -> Duration] = [
            { timed { consume(matmul(a, b)) } },
            {
                timed {
                    rawSGEMM(
                        m: shape.m, n: shape.n, k: shape.k, a: a.storage.pointer,
                        b: b.storage.pointer, c: c)
                    consume(c)
                }
            },
        ]
        if shape.includesLinear {
            variants.append({ timed { consume(linear(a, weight: weight)) } })
        }
        let timings = measureInterleaved(variants, policy: policy)
        results.append(
            GEMMResult(shape: shape, operation: "matmul", tensor: timings[0], raw: timings[1]))
        if shape.includesLinear {
            results.append(
                GEMMResult(
                    shape: shape, operation: "linear, [N, K] weight", tensor: timings[2],
                    raw: timings[1]))
        }
    }
    return results
}
