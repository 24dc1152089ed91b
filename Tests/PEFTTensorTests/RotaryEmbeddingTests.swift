import Foundation
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Rotary embedding")
struct RotaryEmbeddingTests {
    /// `x·cos + rotate_half(x)·sin` per head, written with slices and broadcasting as `transformers` does.
    func reference(_ x: Tensor, cos: Tensor, sin: Tensor, heads: Int) -> Tensor {
        let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        let size = width / heads
        let split = x.reshaped(to: [batch, length, heads, size])
            .split(sizes: [size / 2, size / 2], alongAxis: 3)
        let rotated = concatenate([-1 * split[1], split[0]], alongAxis: 3)
        let full = { (table: Tensor) in
            concatenate([table, table], alongAxis: 2).reshaped(to: [
                table.shape[0], length, 1, size,
            ])
        }
        let y = x.reshaped(to: [batch, length, heads, size]) * full(cos) + rotated * full(sin)
        return y.reshaped(to: [batch, length, width])
    }

    @Test("The fused op equals x·cos + rotate_half(x)·sin, with shared and per-row tables")
    func matchesReference() {
        let x = randomTensor([2, 3, 12], seed: 1)
        for tableBatch in [1, 2] {
            let cos = randomTensor([tableBatch, 3, 2], seed: 2)
            let sin = randomTensor([tableBatch, 3, 2], seed: 3)
            expectClose(
                rotaryEmbedding(x, cos: cos, sin: sin, heads: 3),
                reference(x, cos: cos, sin: sin, heads: 3), tolerance: 1e-6)
        }
    }

    @Test("A rotation keeps each coordinate pair's length")
    func preservesNorm() {
        let x = randomTensor([1, 4, 8], seed: 4)
        let angles = randomTensor([1, 4, 2], seed: 5, in: -3..<3).scalars
        let cos = Tensor(shape: [1, 4, 2], scalars: angles.map { Foundation.cos($0) })
        let sin = Tensor(shape: [1, 4, 2], scalars: angles.map { Foundation.sin($0) })
        let y = rotaryEmbedding(x, cos: cos, sin: sin, heads: 2)
        func pairLengths(_ t: Tensor) -> [Float] {
            let s = t.scalars
            return (0..<4).flatMap { row in
                (0..<2).flatMap { head in
                    (0..<2).map { i in
                        let base = row * 8 + head * 4
                        return s[base + i] * s[base + i] + s[base + 2 + i] * s[base + 2 + i]
                    }
                }
            }
        }
        expectClose(pairLengths(y), pairLengths(x), tolerance: 1e-5)
    }

    @Test("Gradients match finite differences")
    func gradients() {
        let cos = randomTensor([2, 3, 2], seed: 6)
        let sin = randomTensor([2, 3, 2], seed: 7)
        expectGradientsMatchFiniteDifferences([randomTensor([2, 3, 8], seed: 8)]) { inputs in
            rotaryEmbedding(inputs[0], cos: cos, sin: sin, heads: 2)
        }
    }
}
