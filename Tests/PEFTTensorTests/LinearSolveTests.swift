import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Batched linear solves")
struct LinearSolveTests {
    /// Well-conditioned matrices: the identity plus small random entries.
    static func matrices(_ count: Int, _ size: Int, seed: UInt64) -> Tensor {
        var identity = [Float](repeating: 0, count: count * size * size)
        for matrix in 0..<count {
            for i in 0..<size { identity[(matrix * size + i) * size + i] = 1 }
        }
        return Tensor(shape: [count, size, size], scalars: identity)
            + randomTensor([count, size, size], seed: seed, in: -0.4..<0.4)
    }

    @Test("A·X gives back B, also when pivoting is needed")
    func solves() {
        let a = Self.matrices(3, 5, seed: 1)
        let b = randomTensor([3, 5, 2], seed: 2)
        expectClose(matmul(a, linearSolve(a, b)), b, tolerance: 1e-5)
        // A zero leading entry: elimination without a row swap would divide by zero.
        let permuted = Tensor(shape: [1, 2, 2], scalars: [0, 2, 3, 1])
        #expect(
            linearSolve(permuted, Tensor(shape: [1, 2, 1], scalars: [4, 5])).scalars == [1, 2])
    }

    @Test("Gradients match finite differences in the matrices and the right-hand sides")
    func gradients() {
        expectGradientsMatchFiniteDifferences(
            [Self.matrices(2, 4, seed: 3), randomTensor([2, 4, 3], seed: 4)]
        ) { linearSolve($0[0], $0[1]) }
    }

    @Test("A plain matrix (no batch) solves and differentiates too")
    func unbatched() {
        let a = Self.matrices(1, 3, seed: 5).reshaped(to: [3, 3])
        expectGradientsMatchFiniteDifferences([a, randomTensor([3, 3], seed: 6)]) {
            linearSolve($0[0], $0[1])
        }
    }
}
