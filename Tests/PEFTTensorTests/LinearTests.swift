import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Linear maps")
struct LinearTests {
    @Test("Both weight layouts compute x·Wᵀ + b and x·W + b")
    func forwardValues() {
        let x = Tensor(shape: [1, 2], scalars: [1, 2])
        let weight = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        let bias = Tensor([10, 20, 30])
        #expect(linear(x, weight: weight, bias: bias).scalars == [11, 22, 33])
        let conv1DWeight = Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 1, 1])
        #expect(
            linear(x, weight: conv1DWeight, bias: bias, layout: .inputsByOutputs).scalars == [
                11, 22, 33,
            ])
    }

    @Test(
        "Linear gradients match finite differences",
        arguments: [LinearWeightLayout.outputsByInputs, .inputsByOutputs], [true, false])
    func gradients(layout: LinearWeightLayout, withBias: Bool) {
        let x = randomTensor([2, 3, 4], seed: 1)
        let weight = randomTensor(layout == .outputsByInputs ? [5, 4] : [4, 5], seed: 2)
        let bias = randomTensor([5], seed: 3)
        expectGradientsMatchFiniteDifferences(withBias ? [x, weight, bias] : [x, weight]) {
            linear($0[0], weight: $0[1], bias: withBias ? $0[2] : nil, layout: layout)
        }
    }

    @Test(
        "A frozen weight costs no weight-gradient GEMM in backward",
        arguments: [LinearWeightLayout.outputsByInputs, .inputsByOutputs])
    func frozenWeightSkipsWeightGEMM(layout: LinearWeightLayout) {
        let x = randomTensor([4, 8], seed: 4).requiringGradient()
        let trainable = randomTensor([8, 8], seed: 5).requiringGradient()
        let frozen = randomTensor([8, 8], seed: 6)

        let trainableLoss = linear(x, weight: trainable, layout: layout).sum()
        #expect(GEMMCounter.counting { trainableLoss.backward() } == 2)
        #expect(trainable.gradient != nil)

        let frozenLoss = linear(x, weight: frozen, layout: layout).sum()
        #expect(GEMMCounter.counting { frozenLoss.backward() } == 1)
        #expect(frozen.gradient == nil)

        // With nothing upstream needing a gradient either, backward runs no GEMM at all.
        let input = randomTensor([4, 8], seed: 7)
        let onlyBias = randomTensor([8], seed: 8).requiringGradient()
        let biasLoss = linear(input, weight: frozen, bias: onlyBias, layout: layout).sum()
        #expect(GEMMCounter.counting { biasLoss.backward() } == 0)
        #expect(onlyBias.gradient?.scalars == [Float](repeating: 4, count: 8))
    }

    @Test("A frozen matmul operand costs no GEMM for its gradient")
    func frozenMatmulOperand() {
        let activations = randomTensor([2, 3, 4], seed: 9).requiringGradient()
        let frozen = randomTensor([4, 4], seed: 10)
        let loss = matmul(activations, frozen, transposingRight: true).sum()
        #expect(GEMMCounter.counting { loss.backward() } == 1)
    }

    @Test("A shared weight's gradient over a batch is one GEMM")
    func weightGradientIsOneGEMM() {
        let x = randomTensor([3, 5, 4], seed: 11)
        let weight = randomTensor([6, 4], seed: 12).requiringGradient()
        let loss = linear(x, weight: weight).sum()
        #expect(GEMMCounter.counting { loss.backward() } == 1)
    }
}

@Suite("Low-rank linear")
struct LowRankLinearTests {
    @Test("The fused low-rank linear equals the composed ops, forward and backward",
          arguments: [LinearWeightLayout.outputsByInputs, .inputsByOutputs])
    func matchesComposition(layout: LinearWeightLayout) {
        let x = randomTensor([2, 3, 5], seed: 1)
        let weight = randomTensor(layout == .outputsByInputs ? [4, 5] : [5, 4], seed: 2)
        let bias = randomTensor([4], seed: 3)
        let down = randomTensor([2, 5], seed: 4)
        let up = randomTensor([4, 2], seed: 5)
        let fused = lowRankLinear(x, weight: weight, bias: bias, layout: layout, down: down, up: up, scale: 1.5)
        let composed = linear(x, weight: weight, bias: bias, layout: layout) + linear(linear(x, weight: down), weight: up) * 1.5
        expectClose(fused, composed, tolerance: 1e-5)
        expectGradientsMatchFiniteDifferences([x, weight, bias, down, up]) {
            lowRankLinear($0[0], weight: $0[1], bias: $0[2], layout: layout, down: $0[3], up: $0[4], scale: 1.5)
        }
    }

    @Test("With a frozen base, backward runs no base-weight GEMM")
    func frozenBase() {
        let x = randomTensor([4, 8], seed: 6).requiringGradient()
        let weight = randomTensor([8, 8], seed: 7)
        let down = randomTensor([2, 8], seed: 8).requiringGradient()
        let up = randomTensor([8, 2], seed: 9).requiringGradient()
        let loss = lowRankLinear(x, weight: weight, bias: nil, layout: .outputsByInputs, down: down, up: up, scale: 2).sum()
        // dh, dX (two GEMMs), dA, dB: five, and no [out, in] weight gradient.
        #expect(GEMMCounter.counting { loss.backward() } == 5)
        #expect(weight.gradient == nil && down.gradient != nil && up.gradient != nil)
    }
}
