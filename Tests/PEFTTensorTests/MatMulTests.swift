import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Matrix products")
struct MatMulTests {
    static let transposeCombinations: [(Bool, Bool)] = [
        (false, false), (false, true), (true, false), (true, true),
    ]

    /// `[rows, columns]` of an operand stored so that `op(stored)` has the given shape.
    static func stored(_ rows: Int, _ columns: Int, transposed: Bool) -> [Int] {
        transposed ? [columns, rows] : [rows, columns]
    }

    @Test("A 2-D product equals the hand-computed result")
    func forwardValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(matmul(a, b).scalars == [58, 64, 139, 154])
        #expect(matmul(a, a, transposingRight: true).scalars == [14, 32, 32, 77])
        #expect(matmul(a, a, transposingLeft: true).shape == [3, 3])
        #expect(
            matmul(a, a, transposingLeft: true).scalars == [17, 22, 27, 22, 29, 36, 27, 36, 45])
    }

    @Test(
        "2-D product gradients match finite differences for every transpose combination",
        arguments: transposeCombinations)
    func twoDimensionalGradients(transposeLeft: Bool, transposeRight: Bool) {
        let a = randomTensor(Self.stored(3, 4, transposed: transposeLeft), seed: 1)
        let b = randomTensor(Self.stored(4, 5, transposed: transposeRight), seed: 2)
        expectGradientsMatchFiniteDifferences([a, b]) {
            matmul($0[0], $0[1], transposingLeft: transposeLeft, transposingRight: transposeRight)
        }
    }

    @Test(
        "Batched 3-D product gradients match finite differences for every transpose combination",
        arguments: transposeCombinations)
    func batchedGradients(transposeLeft: Bool, transposeRight: Bool) {
        let a = randomTensor([2] + Self.stored(3, 4, transposed: transposeLeft), seed: 3)
        let b = randomTensor([2] + Self.stored(4, 2, transposed: transposeRight), seed: 4)
        expectGradientsMatchFiniteDifferences([a, b]) {
            matmul($0[0], $0[1], transposingLeft: transposeLeft, transposingRight: transposeRight)
        }
    }

    @Test(
        "4-D product gradients match finite differences for every transpose combination",
        arguments: transposeCombinations)
    func fourDimensionalGradients(transposeLeft: Bool, transposeRight: Bool) {
        let a = randomTensor([2, 2] + Self.stored(3, 2, transposed: transposeLeft), seed: 5)
        let b = randomTensor([2, 2] + Self.stored(2, 3, transposed: transposeRight), seed: 6)
        expectGradientsMatchFiniteDifferences([a, b]) {
            matmul($0[0], $0[1], transposingLeft: transposeLeft, transposingRight: transposeRight)
        }
    }

    @Test(
        "A shared matrix broadcasts over the batch, forward and backward, for every transpose combination",
        arguments: transposeCombinations)
    func broadcastGradients(transposeLeft: Bool, transposeRight: Bool) {
        let batched = randomTensor([2, 2] + Self.stored(3, 4, transposed: transposeLeft), seed: 7)
        let shared = randomTensor(Self.stored(4, 2, transposed: transposeRight), seed: 8)
        expectGradientsMatchFiniteDifferences([batched, shared]) {
            matmul($0[0], $0[1], transposingLeft: transposeLeft, transposingRight: transposeRight)
        }
        let sharedLeft = randomTensor(Self.stored(3, 4, transposed: transposeLeft), seed: 9)
        let batchedRight = randomTensor(
            [3] + Self.stored(4, 2, transposed: transposeRight), seed: 10)
        expectGradientsMatchFiniteDifferences([sharedLeft, batchedRight]) {
            matmul($0[0], $0[1], transposingLeft: transposeLeft, transposingRight: transposeRight)
        }
    }

    @Test("A batched product equals the per-batch 2-D products")
    func batchedMatchesLoop() {
        let a = randomTensor([3, 4, 5], seed: 11)
        let b = randomTensor([3, 6, 5], seed: 12)
        let batched = matmul(a, b, transposingRight: true)
        for index in 0..<3 {
            let slice = { (t: Tensor) in
                t.narrowed(alongAxis: 0, start: index, length: 1).reshaped(
                    to: Array(t.shape.dropFirst()))
            }
            expectClose(
                slice(batched), matmul(slice(a), slice(b), transposingRight: true), tolerance: 1e-6)
        }
    }
}
