import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Shape operations")
struct ShapeTests {
    @Test("Reshape, permute, narrow, concatenate, split and expand move the right elements")
    func values() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.reshaped(to: [3, -1]).shape == [3, 2])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.narrowed(alongAxis: 1, start: 1, length: 2).scalars == [2, 3, 5, 6])
        #expect(concatenate([x, x], alongAxis: 1).scalars == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        #expect(concatenate([x, x], alongAxis: 0).shape == [4, 3])
        let pieces = x.split(sizes: [1, 2], alongAxis: 1)
        #expect(pieces[0].scalars == [1, 4])
        #expect(pieces[1].scalars == [2, 3, 5, 6])
        #expect(
            Tensor([1, 2]).reshaped(to: [2, 1]).expanded(to: [2, 3]).scalars == [1, 1, 1, 2, 2, 2])
        let cube = Tensor.arange(0, 24).reshaped(to: [2, 3, 4])
        let permuted = cube.permuted([2, 0, 1])
        #expect(permuted.shape == [4, 2, 3])
        #expect(permuted.scalars[0..<6] == [0, 4, 8, 12, 16, 20])
    }

    @Test("Shape operation gradients match finite differences")
    func gradients() {
        let x = randomTensor([2, 3, 4], seed: 1)
        let y = randomTensor([2, 2, 4], seed: 2)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].reshaped(to: [6, 4]) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].permuted([1, 2, 0]) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].transposed(0, 2) }
        expectGradientsMatchFiniteDifferences([x]) {
            $0[0].narrowed(alongAxis: 1, start: 1, length: 2)
        }
        expectGradientsMatchFiniteDifferences([x, y]) { concatenate([$0[0], $0[1]], alongAxis: 1) }
        expectGradientsMatchFiniteDifferences([x]) {
            concatenate($0[0].split(sizes: [3, 1], alongAxis: 2).reversed(), alongAxis: 2)
        }
        expectGradientsMatchFiniteDifferences([randomTensor([3, 1], seed: 3)]) {
            $0[0].expanded(to: [2, 3, 4])
        }
    }

    @Test("Row gather looks up rows and scatter-adds repeated indices in backward")
    func gather() {
        let table = Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])
        let rows = gatherRows(table, indices: [2, 0, 2, 2], indexShape: [2, 2])
        #expect(rows.shape == [2, 2, 2])
        #expect(rows.scalars == [20, 21, 0, 1, 20, 21, 20, 21])
        let leaf = table.requiringGradient()
        gatherRows(leaf, indices: [2, 0, 2, 2]).sum().backward()
        #expect(leaf.gradient?.scalars == [1, 1, 0, 0, 3, 3])
        expectGradientsMatchFiniteDifferences([randomTensor([4, 3], seed: 4)]) {
            gatherRows($0[0], indices: [1, 3, 1, 0, 1], indexShape: [5])
        }
    }
}
