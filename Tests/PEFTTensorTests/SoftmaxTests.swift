import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Softmax and cross-entropy")
struct SoftmaxTests {
    @Test("Softmax rows are distributions and log-softmax is their logarithm")
    func values() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000])
        let y = softmax(x)
        expectClose(
            y.scalars, [0.090_030_57, 0.244_728_47, 0.665_240_94, 1.0 / 3, 1.0 / 3, 1.0 / 3],
            tolerance: 1e-6)
        expectClose(exp(logSoftmax(x)), y, tolerance: 1e-6)
    }

    @Test("Softmax and log-softmax gradients match finite differences")
    func gradients() {
        let x = randomTensor([2, 3, 5], seed: 1, in: -2..<2)
        expectGradientsMatchFiniteDifferences([x]) { softmax($0[0]) }
        expectGradientsMatchFiniteDifferences([x]) { logSoftmax($0[0]) }
    }

    @Test("Cross-entropy is the mean negative log-likelihood over the targets not ignored")
    func crossEntropyValue() {
        let logits = Tensor(shape: [3, 3], scalars: [1, 2, 3, 0, 0, 0, 5, 1, 1])
        let loss = crossEntropy(logits: logits, targets: [2, ignoredTarget, 0])
        let logProbabilities = logSoftmax(logits).scalars
        let expected = -(logProbabilities[2] + logProbabilities[6]) / 2
        #expect(abs(loss.scalar - expected) < 1e-6)
        #expect(
            crossEntropy(logits: logits, targets: [ignoredTarget, ignoredTarget, ignoredTarget])
                .scalar == 0)
    }

    @Test(
        "Cross-entropy gradient is softmax minus one-hot over kept rows, and zero on ignored rows")
    func crossEntropyGradients() {
        let logits = randomTensor([2, 3, 4], seed: 2, in: -2..<2)
        let targets = [1, 3, ignoredTarget, 0, 2, 2]
        expectGradientsMatchFiniteDifferences([logits]) {
            crossEntropy(logits: $0[0], targets: targets)
        }
        let leaf = logits.requiringGradient()
        crossEntropy(logits: leaf, targets: targets).backward()
        let gradient = leaf.gradient!.scalars
        #expect(gradient[8..<12].allSatisfy { $0 == 0 })
        let expectedRow = softmax(logits).scalars[0..<4].enumerated().map {
            ($1 - ($0 == 1 ? 1 : 0)) / 5
        }
        expectClose(Array(gradient[0..<4]), expectedRow, tolerance: 1e-6)
    }
}
