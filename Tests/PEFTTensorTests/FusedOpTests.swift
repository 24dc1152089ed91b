import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Fused ops and product paths")
struct FusedOpTests {
    @Test("siluGated equals silu(gate) · up, and its gradients match finite differences")
    func siluGatedMatchesUnfused() {
        // 37 elements: a full vector block and a partial tail.
        let gate = randomTensor([37], seed: 1, in: -4..<4)
        let up = randomTensor([37], seed: 2, in: -2..<2)
        expectClose(siluGated(gate, up), silu(gate) * up, tolerance: 1e-6)
        expectGradientsMatchFiniteDifferences([gate, up]) { siluGated($0[0], $0[1]) }
    }

    /// `op(a)·op(b)` by three loops, the reference for every BLAS path.
    func naiveProduct(_ a: Tensor, _ b: Tensor, _ transposeA: Bool, _ transposeB: Bool) -> [Float] {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        let (x, y) = (a.scalars, b.scalars)
        return (0..<m * n).map { index in
            let (row, column) = index.quotientAndRemainder(dividingBy: n)
            var total: Double = 0
            for inner in 0..<k {
                let left = transposeA ? x[inner * m + row] : x[row * k + inner]
                let right = transposeB ? y[column * k + inner] : y[inner * n + column]
                total += Double(left) * Double(right)
            }
            return Float(total)
        }
    }

    @Test(
        "One-row products (sgemv), rows split across cores and columns split across cores equal the naive product",
        arguments: [(1, 300, 500), (130, 70, 120), (40, 300, 100), (3, 5, 7)])
    func productPaths(m: Int, n: Int, k: Int) {
        for (transposeA, transposeB) in [
            (false, false), (true, false), (false, true), (true, true),
        ] {
            let a = randomTensor(transposeA ? [k, m] : [m, k], seed: UInt64(m + k))
            let b = randomTensor(transposeB ? [n, k] : [k, n], seed: UInt64(n + k))
            let product = matmul(a, b, transposingLeft: transposeA, transposingRight: transposeB)
            #expect(product.shape == [m, n])
            expectClose(
                product.scalars, naiveProduct(a, b, transposeA, transposeB), tolerance: 1e-4)
        }
    }

    @Test("A one-row linear layer with a bias adds the bias once (sgemv accumulating into it)")
    func oneRowLinearWithBias() {
        let x = randomTensor([1, 64], seed: 3)
        let weight = randomTensor([96, 64], seed: 4)
        let bias = randomTensor([96], seed: 5)
        let expected = zip(naiveProduct(x, weight, false, true), bias.scalars).map { $0 + $1 }
        expectClose(linear(x, weight: weight, bias: bias).scalars, expected, tolerance: 1e-4)
    }
}
