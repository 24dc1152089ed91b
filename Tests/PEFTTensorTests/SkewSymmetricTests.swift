import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Skew-symmetric matrices from packed triangles")
struct SkewSymmetricTests {
    @Test("The packed row fills the upper triangle row by row, the lower with its negation")
    func layout() {
        let packed = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        #expect(
            skewSymmetricMatrices(fromUpperTriangles: packed, size: 3).scalars == [
                0, 1, 2,
                -1, 0, 3,
                -2, -3, 0,
            ])
        let single = skewSymmetricMatrices(fromUpperTriangles: Tensor.zeros([2, 0]), size: 1)
        #expect(single.shape == [2, 1, 1] && single.scalars == [0, 0])
    }

    @Test("Gradients match finite differences")
    func gradients() {
        expectGradientsMatchFiniteDifferences([randomTensor([3, 6], seed: 4)]) {
            skewSymmetricMatrices(fromUpperTriangles: $0[0], size: 4)
        }
    }
}
