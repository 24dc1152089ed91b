import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Kronecker product")
struct KroneckerProductTests {
    @Test("Block (i, j) is s·A[i, j]·B, as torch.kron lays it out")
    func layout() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = Tensor(shape: [1, 3], scalars: [1, 10, 100])
        #expect(
            kroneckerProduct(a, b, scale: 2).scalars == [
                2, 20, 200, 4, 40, 400,
                6, 60, 600, 8, 80, 800,
            ])
        #expect(kroneckerProduct(a, b).shape == [2, 6])
    }

    @Test("Gradients match finite differences")
    func gradients() {
        expectGradientsMatchFiniteDifferences([
            randomTensor([2, 3], seed: 1), randomTensor([4, 2], seed: 2),
        ]) {
            kroneckerProduct($0[0], $0[1], scale: 1.3)
        }
        expectGradientsMatchFiniteDifferences([
            randomTensor([3, 1], seed: 3), randomTensor([2, 5], seed: 4),
        ]) {
            kroneckerProduct($0[0], $0[1])
        }
    }
}
