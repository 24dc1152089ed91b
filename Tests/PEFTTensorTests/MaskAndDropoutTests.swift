import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Masks and dropout")
struct MaskAndDropoutTests {
    @Test("The causal mask hides future keys and allows for keys running ahead of queries")
    func causal() {
        #expect(causalMask(queries: 2, keys: 2).scalars == [0, maskedScore, 0, 0])
        #expect(causalMask(queries: 1, keys: 3).scalars == [0, 0, 0])
        #expect(causalMask(queries: 2, keys: 3).scalars == [0, 0, maskedScore, 0, 0, 0])
        let masked = softmax(Tensor.zeros([2, 2]) + causalMask(queries: 2, keys: 2))
        #expect(masked.scalars == [1, 0, 0.5, 0.5])
    }

    @Test("An additive mask and a padding mask remove positions from attention, and gradients flow")
    func additive() {
        let scores = randomTensor([2, 1, 3, 3], seed: 1)
        let padding = paddingMask([[1, 1, 0], [1, 1, 1]])
        #expect(padding.shape == [2, 1, 1, 3])
        let attention = softmax(scores + padding + causalMask(queries: 3, keys: 3))
        #expect(attention.scalars[2] == 0 && attention.scalars[8] == 0)
        expectGradientsMatchFiniteDifferences([scores, randomTensor([3, 3], seed: 2)]) {
            softmax($0[0] + $0[1])
        }
    }

    @Test("Masked fill replaces the masked elements and blocks their gradient")
    func maskedFillValues() {
        let x = Tensor([1, 2, 3, 4])
        let mask = Tensor([0, 1, 0, 1])
        #expect(maskedFill(x, mask: mask, value: -7).scalars == [1, -7, 3, -7])
        let leaf = x.requiringGradient()
        maskedFill(leaf, mask: mask, value: 0).sum().backward()
        #expect(leaf.gradient?.scalars == [1, 0, 1, 0])
        expectGradientsMatchFiniteDifferences([randomTensor([2, 3], seed: 3)]) {
            maskedFill($0[0], mask: Tensor([1, 0, 0]), value: 5)
        }
    }

    @Test(
        "Dropout is the identity in eval mode, seeded in training, and its gradient uses the same mask"
    )
    func dropoutBehaviour() {
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.ones([1000])
        #expect(
            dropout(x, probability: 0.5, training: false, using: &generator).scalars == x.scalars)
        let dropped = dropout(x, probability: 0.25, training: true, using: &generator).scalars
        #expect(Set(dropped) == [0, Float(1) / 0.75])
        let kept = dropped.filter { $0 != 0 }.count
        #expect(kept > 700 && kept < 800)
        var first = RandomGenerator(seed: 9)
        var second = RandomGenerator(seed: 9)
        #expect(
            dropout(x, probability: 0.5, training: true, using: &first).scalars
                == dropout(x, probability: 0.5, training: true, using: &second).scalars)
        expectGradientsMatchFiniteDifferences([randomTensor([3, 4], seed: 4)]) {
            var generator = RandomGenerator(seed: 5)
            return dropout($0[0], probability: 0.3, training: true, using: &generator)
        }
    }
}
