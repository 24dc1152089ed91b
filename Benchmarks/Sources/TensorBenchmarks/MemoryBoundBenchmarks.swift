import PEFTTensor

/// A memory-bound op timed forward and backward, with the bytes a minimal implementation moves.
///
/// The byte counts are a yardstick, not a trace: they count each tensor an ideal kernel must read or
/// write once (Float32, 4 bytes an element) and ignore per-row statistics, so an implementation that
/// makes extra passes over memory shows up as a lower GB/s.
struct MemoryBoundCase {
    let name: String
    let shape: String
    /// The forward pass's bytes, and how they are counted.
    let forwardBytes: Double
    let forwardFormula: String
    /// The backward pass's bytes, and how they are counted.
    let backwardBytes: Double
    let backwardFormula: String
    /// The inputs; each run wraps them in fresh trainable leaves so no gradient accumulates.
    let inputs: [Tensor]
    let forward: ([Tensor]) -> Tensor
    /// The output gradient, or `nil` for a scalar loss.
    let seed: Tensor?
}

/// The forward and backward timings of one ``MemoryBoundCase``.
struct MemoryBoundResult {
    let benchmark: MemoryBoundCase
    let forward: Timing
    let backward: Timing

    var forwardGBPerSecond: Double { benchmark.forwardBytes / forward.seconds / 1e9 }
    var backwardGBPerSecond: Double { benchmark.backwardBytes / backward.seconds / 1e9 }
    var totalGBPerSecond: Double {
        (benchmark.forwardBytes + benchmark.backwardBytes) / (forward.seconds + backward.seconds)
            / 1e9
    }
}

/// LayerNorm, softmax, GELU and cross-entropy at GPT-2 small's sizes.
func makeMemoryBoundCases() -> [MemoryBoundCase] {
    var generator = RandomGenerator(seed: 7)
    let bytes = Double(MemoryLayout<Float>.size)

    let (rows, width) = (4096, 768)
    let layerNormCase = MemoryBoundCase(
        name: "LayerNorm", shape: "[\(rows), \(width)] + affine",
        forwardBytes: bytes * Double(2 * rows * width + 2 * width),
        forwardFormula: "4·(2·N·C + 2·C): read x, w, b; write y",
        backwardBytes: bytes * Double(3 * rows * width + 3 * width),
        backwardFormula: "4·(3·N·C + 3·C): read dy, x, w; write dx, dw, db",
        inputs: [
            Tensor.normal([rows, width], using: &generator),
            Tensor.normal([width], mean: 1, standardDeviation: 0.1, using: &generator),
            Tensor.normal([width], standardDeviation: 0.1, using: &generator),
        ],
        forward: { layerNorm($0[0], weight: $0[1], bias: $0[2]) },
        seed: Tensor.normal([rows, width], using: &generator))

    let (softmaxRows, softmaxWidth) = (4096, 1024)
    let softmaxCase = MemoryBoundCase(
        name: "softmax", shape: "[\(softmaxRows), \(softmaxWidth)]",
        forwardBytes: bytes * Double(2 * softmaxRows * softmaxWidth),
        forwardFormula: "4·2·N·C: read x; write y",
        backwardBytes: bytes * Double(3 * softmaxRows * softmaxWidth),
        backwardFormula: "4·3·N·C: read dy, y; write dx",
        inputs: [
            Tensor.normal([softmaxRows, softmaxWidth], standardDeviation: 3, using: &generator)
        ],
        forward: { softmax($0[0]) },
        seed: Tensor.normal([softmaxRows, softmaxWidth], using: &generator))

    let geluShape = [4096, 3072]
    let geluCount = geluShape.reduce(1, *)
    let geluCase = MemoryBoundCase(
        name: "GELU (tanh)", shape: "[4096, 3072]",
        forwardBytes: bytes * Double(2 * geluCount),
        forwardFormula: "4·2·n: read x; write y",
        backwardBytes: bytes * Double(3 * geluCount),
        backwardFormula: "4·3·n: read dy, x; write dx",
        inputs: [Tensor.normal(geluShape, using: &generator)],
        forward: { geluTanh($0[0]) },
        seed: Tensor.normal(geluShape, using: &generator))

    let (tokens, vocabulary) = (4 * 128, 50257)
    let targets = (0..<tokens).map { _ in Int(generator.next() % UInt64(vocabulary)) }
    let crossEntropyCase = MemoryBoundCase(
        name: "cross-entropy", shape: "[\(tokens), \(vocabulary)] logits",
        forwardBytes: bytes * Double(tokens * vocabulary),
        forwardFormula: "4·N·V: read logits",
        backwardBytes: bytes * Double(2 * tokens * vocabulary),
        backwardFormula: "4·2·N·V: read logits (or saved probabilities); write dlogits",
        inputs: [Tensor.normal([tokens, vocabulary], standardDeviation: 2, using: &generator)],
        forward: { crossEntropy(logits: $0[0], targets: targets) },
        seed: nil)

    return [layerNormCase, softmaxCase, geluCase, crossEntropyCase]
}

/// Times each case's forward pass and, separately, its backward pass.
///
/// Forward runs with gradient recording on, as in training, so it includes whatever the op saves
/// for backward. Backward is timed from the output gradient to the inputs' gradients; the forward
/// pass that builds its graph runs outside the clock.
///
/// With a `filter`, only the cases whose name contains it (ignoring case) run.
func runMemoryBoundBenchmarks(policy: SamplingPolicy, filter: String? = nil) -> [MemoryBoundResult]
{
    let cases = makeMemoryBoundCases().filter { benchmark in
        filter.map { benchmark.name.lowercased().contains($0) } ?? true
    }
    return cases.map { benchmark in
        let forward: () -> Duration = {
            let leaves = benchmark.inputs.map { $0.requiringGradient() }
            var output: Tensor?
            let duration = timed { output = benchmark.forward(leaves) }
            consume(output!)
            return duration
        }
        let backward: () -> Duration = {
            let leaves = benchmark.inputs.map { $0.requiringGradient() }
            let output = benchmark.forward(leaves)
            let duration = timed { output.backward(benchmark.seed) }
            consume(leaves[0].gradient!)
            return duration
        }
        let timings = measureInterleaved([forward, backward], policy: policy)
        return MemoryBoundResult(benchmark: benchmark, forward: timings[0], backward: timings[1])
    }
}
