import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("LAPACK decompositions")
struct LAPACKTests {
    static let shapes: [[Int]] = [[6, 4], [4, 6], [5, 5]]

    @Test(
        "Thin SVD reconstructs the matrix with orthonormal factors and sorted singular values",
        arguments: shapes)
    func svd(shape: [Int]) throws {
        let a = randomTensor(shape, seed: 1)
        let decomposition = try a.singularValueDecomposition()
        let k = shape.min()!
        #expect(decomposition.u.shape == [shape[0], k])
        #expect(decomposition.vTransposed.shape == [k, shape[1]])
        let reconstructed = matmul(
            decomposition.u * decomposition.singularValues, decomposition.vTransposed)
        expectClose(reconstructed, a, tolerance: 1e-5)
        expectClose(
            matmul(decomposition.u, decomposition.u, transposingLeft: true), identity(k),
            tolerance: 1e-5)
        expectClose(
            matmul(decomposition.vTransposed, decomposition.vTransposed, transposingRight: true),
            identity(k),
            tolerance: 1e-5)
        let values = decomposition.singularValues.scalars
        #expect(values == values.sorted(by: >) && values.allSatisfy { $0 >= 0 })
    }

    @Test(
        "Thin QR reconstructs the matrix with orthonormal Q and upper-triangular R",
        arguments: shapes)
    func qr(shape: [Int]) throws {
        let a = randomTensor(shape, seed: 2)
        let decomposition = try a.qrDecomposition()
        let k = shape.min()!
        expectClose(matmul(decomposition.q, decomposition.r), a, tolerance: 1e-5)
        expectClose(
            matmul(decomposition.q, decomposition.q, transposingLeft: true), identity(k),
            tolerance: 1e-5)
        let r = decomposition.r.scalars
        for row in 0..<k {
            for column in 0..<min(row, shape[1]) { #expect(r[row * shape[1] + column] == 0) }
        }
    }

    func identity(_ n: Int) -> Tensor {
        Tensor(shape: [n, n], scalars: (0..<n * n).map { $0 / n == $0 % n ? 1 : 0 })
    }
}
