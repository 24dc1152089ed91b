import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Block-diagonal matrix products")
struct BlockDiagonalMatMulTests {
    /// The dense block-diagonal matrix of `blocks` (`[k, b, b]`, or `[1, b, b]` repeated `count` times).
    static func dense(_ blocks: Tensor, count: Int, transposed: Bool) -> Tensor {
        let size = blocks.shape[1]
        let width = count * size
        var scalars = [Float](repeating: 0, count: width * width)
        let values = blocks.scalars
        for index in 0..<count {
            let source = (blocks.shape[0] == 1 ? 0 : index) * size * size
            for j in 0..<size {
                for c in 0..<size {
                    let value =
                        transposed ? values[source + c * size + j] : values[source + j * size + c]
                    scalars[(index * size + j) * width + index * size + c] = value
                }
            }
        }
        return Tensor(shape: [width, width], scalars: scalars)
    }

    @Test(
        "The product equals x times the dense block-diagonal matrix",
        arguments: [(false, false), (true, false), (false, true), (true, true)])
    func forward(shared: Bool, transposed: Bool) {
        let x = randomTensor([2, 3, 12], seed: 1)
        let blocks = randomTensor([shared ? 1 : 3, 4, 4], seed: 2)
        let expected = matmul(x, Self.dense(blocks, count: 3, transposed: transposed))
        expectClose(
            blockDiagonalMatmul(x, blocks: blocks, transposingBlocks: transposed), expected,
            tolerance: 1e-5)
    }

    @Test(
        "Gradients match finite differences, a shared block's summed over the slices",
        arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gradients(shared: Bool, transposed: Bool) {
        expectGradientsMatchFiniteDifferences(
            [randomTensor([5, 9], seed: 3), randomTensor([shared ? 1 : 3, 3, 3], seed: 4)]
        ) { blockDiagonalMatmul($0[0], blocks: $0[1], transposingBlocks: transposed) }
    }
}
