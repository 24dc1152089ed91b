import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Reductions")
struct ReductionTests {
    @Test("Sums, means and maxima along an axis give the right values")
    func values() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(x.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(x.sum(alongAxis: 1).scalars == [9, 12])
        #expect(x.sum(alongAxis: -1, keepingDimension: true).shape == [2, 1])
        #expect(x.mean(alongAxis: 1).scalars == [3, 4])
        #expect(x.max(alongAxis: 1).scalars == [5, 6])
        #expect(x.max(alongAxis: 0).scalars == [4, 5, 6])
        #expect(x.sum().scalar == 21)
        #expect(x.mean().scalar == 3.5)
        #expect(x.max().scalar == 6)
    }

    @Test("Reduction gradients match finite differences", arguments: [0, 1, 2, -1])
    func gradients(axis: Int) {
        let x = randomTensor([2, 3, 4], seed: 1)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].sum(alongAxis: axis) }
        expectGradientsMatchFiniteDifferences([x]) {
            $0[0].mean(alongAxis: axis, keepingDimension: true)
        }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].max(alongAxis: axis) }
    }

    @Test("Whole-tensor reduction gradients match finite differences")
    func wholeTensorGradients() {
        let x = randomTensor([3, 4], seed: 2)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].sum() }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].mean() }
        // Values spaced wider than the finite-difference step, so the maximum never changes places.
        let spaced = Tensor(
            shape: [3, 4], scalars: [5, 1, 9, 3, 11, 0, 7, 2, 10, 4, 8, 6].map { $0 * 0.1 })
        expectGradientsMatchFiniteDifferences([spaced]) { $0[0].max() }
    }
}
