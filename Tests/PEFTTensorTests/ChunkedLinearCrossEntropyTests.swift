import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Head and cross-entropy a block of rows at a time")
struct ChunkedLinearCrossEntropyTests {
    let targets = [3, ignoredTarget, 0, 6, 6, 1, ignoredTarget, 2, 5, 4, 0]

    @Test(
        "Loss and gradients equal cross-entropy of the full logits, over several blocks",
        arguments: [false, true])
    func matchesFullLogits(trainsWeight: Bool) {
        let hidden = randomTensor([11, 5], seed: 1).requiringGradient()
        let dense = randomTensor([7, 5], seed: 2)
        let weight = trainsWeight ? dense.requiringGradient() : dense
        // 7 classes, blocks of 21 values: three rows a block, four blocks.
        let chunked = linearCrossEntropy(
            hidden, weight: .dense(weight), targets: targets, blockElements: 21)
        chunked.backward()
        let referenceHidden = hidden.detached().requiringGradient()
        let referenceWeight = trainsWeight ? dense.requiringGradient() : dense
        let reference = crossEntropy(
            logits: linear(referenceHidden, weight: referenceWeight), targets: targets)
        reference.backward()
        #expect(abs(chunked.scalar - reference.scalar) < 1e-6)
        expectClose(hidden.gradient!, referenceHidden.gradient!, tolerance: 1e-6)
        if trainsWeight {
            expectClose(weight.gradient!, referenceWeight.gradient!, tolerance: 1e-6)
        }
    }

    @Test("Gradients match finite differences (hidden and a trainable weight)")
    func finiteDifferences() {
        expectGradientsMatchFiniteDifferences(
            [randomTensor([11, 5], seed: 3), randomTensor([7, 5], seed: 4)]
        ) {
            linearCrossEntropy($0[0], weight: .dense($0[1]), targets: targets, blockElements: 14)
        }
    }

    @Test("A low-precision head gives the loss of its dequantised copy")
    func lowPrecisionHead() {
        let stored = LowPrecisionMatrix(randomTensor([7, 64], seed: 5), format: .nf4)
        let hidden = randomTensor([11, 64], seed: 6).requiringGradient()
        let chunked = linearCrossEntropy(
            hidden, weight: .lowPrecision(stored), targets: targets, blockElements: 14)
        chunked.backward()
        let referenceHidden = hidden.detached().requiringGradient()
        let reference = crossEntropy(
            logits: linear(referenceHidden, weight: stored.dequantized()), targets: targets)
        reference.backward()
        #expect(abs(chunked.scalar - reference.scalar) < 1e-5)
        expectClose(hidden.gradient!, referenceHidden.gradient!, tolerance: 1e-5)
    }
}
