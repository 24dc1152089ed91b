import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Hadamard product of two low-rank matrices")
struct LowRankHadamardProductTests {
    @Test("Forward is s·(A₁B₁) ⊙ (A₂B₂)")
    func forward() {
        let (a1, b1) = (randomTensor([5, 2], seed: 1), randomTensor([2, 3], seed: 2))
        let (a2, b2) = (randomTensor([5, 3], seed: 3), randomTensor([3, 3], seed: 4))
        let expected = matmul(a1, b1) * matmul(a2, b2) * 1.5
        expectClose(lowRankHadamardProduct(a1, b1, a2, b2, scale: 1.5), expected, tolerance: 1e-6)
    }

    @Test("Gradients match finite differences, and only training factors get one")
    func gradients() {
        let inputs = [
            randomTensor([4, 2], seed: 5), randomTensor([2, 3], seed: 6),
            randomTensor([4, 3], seed: 7), randomTensor([3, 3], seed: 8),
        ]
        expectGradientsMatchFiniteDifferences(inputs) {
            lowRankHadamardProduct($0[0], $0[1], $0[2], $0[3], scale: 0.7)
        }
        let trained = inputs[3].requiringGradient()
        lowRankHadamardProduct(inputs[0], inputs[1], inputs[2], trained, scale: 1).sum().backward()
        #expect(trained.gradient?.shape == [3, 3])
    }
}
