import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Layer normalisation")
struct NormalizationTests {
    @Test("LayerNorm centres and scales each row; RMSNorm scales by the root mean square")
    func values() {
        let x = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        let standardDeviation = Float(1.25 + 1e-5).squareRoot()
        expectClose(
            layerNorm(x, weight: nil, bias: nil).scalars,
            [-1.5, -0.5, 0.5, 1.5].map { $0 / standardDeviation },
            tolerance: 1e-6)
        let affine = layerNorm(x, weight: Tensor([1, 2, 1, 1]), bias: Tensor([0, 0, 0, 10]))
        #expect(abs(affine.scalars[1] - 2 * (-0.5 / standardDeviation)) < 1e-6)
        #expect(abs(affine.scalars[3] - (10 + 1.5 / standardDeviation)) < 1e-5)
        let rootMeanSquare = Float(7.5 + 1e-6).squareRoot()
        expectClose(
            rmsNorm(x, weight: Tensor([1, 1, 2, 1])).scalars,
            [1 / rootMeanSquare, 2 / rootMeanSquare, 6 / rootMeanSquare, 4 / rootMeanSquare],
            tolerance: 1e-6)
    }

    @Test("LayerNorm gradients match finite differences, with and without the affine part")
    func layerNormGradients() {
        let x = randomTensor([2, 3, 5], seed: 1, in: -2..<2)
        let weight = randomTensor([5], seed: 2, in: 0.5..<1.5)
        let bias = randomTensor([5], seed: 3)
        expectGradientsMatchFiniteDifferences([x, weight, bias]) {
            layerNorm($0[0], weight: $0[1], bias: $0[2])
        }
        expectGradientsMatchFiniteDifferences([x]) { layerNorm($0[0], weight: nil, bias: nil) }
    }

    @Test("RMSNorm gradients match finite differences")
    func rmsNormGradients() {
        let x = randomTensor([2, 3, 5], seed: 4, in: -2..<2)
        let weight = randomTensor([5], seed: 5, in: 0.5..<1.5)
        expectGradientsMatchFiniteDifferences([x, weight]) { rmsNorm($0[0], weight: $0[1]) }
        expectGradientsMatchFiniteDifferences([x]) { rmsNorm($0[0], weight: nil) }
    }
}
