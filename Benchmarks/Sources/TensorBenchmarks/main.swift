// Benchmarks for PEFTTensor: GEMM through the tensor API against raw BLAS, and the memory-bound ops
// of a transformer block forward and backward. Run from the repository root with
// `swift run -c release --package-path Benchmarks TensorBenchmarks`; the report is Markdown.
// An optional argument keeps only the benchmarks whose name contains it (`gemm`, `softmax`, ...),
// which is handy under a profiler.

let filter = CommandLine.arguments.dropFirst().first?.lowercased()
let policy = SamplingPolicy()
let gemm = filter.map { "gemm".contains($0) } ?? true ? runGEMMBenchmarks(policy: policy) : []
let memoryBound = runMemoryBoundBenchmarks(policy: policy, filter: filter)
let baseline =
    filter.map { "memory".contains($0) } ?? true ? runMemoryBaseline(policy: policy) : nil
printReport(gemm: gemm, memoryBound: memoryBound, baseline: baseline)
