import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Creation and random numbers")
struct CreationTests {
    @Test("Constructors produce the requested shapes and values")
    func constructors() {
        #expect(Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor.ones([2]).scalars == [1, 1])
        #expect(Tensor.full([1, 2], 7).scalars == [7, 7])
        #expect(Tensor.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).shape == [2, 2])
        #expect(Tensor(3).scalar == 3 && Tensor(3).rank == 0)
    }

    @Test("Seeded generators are reproducible and have the right moments")
    func randomMoments() {
        var first = RandomGenerator(seed: 42)
        var second = RandomGenerator(seed: 42)
        let a = Tensor.normal([20000], mean: 1, standardDeviation: 2, using: &first)
        #expect(
            a.scalars
                == Tensor.normal([20000], mean: 1, standardDeviation: 2, using: &second).scalars)
        let mean = a.mean().scalar
        let variance = ((a - mean) * (a - mean)).mean().scalar
        #expect(abs(mean - 1) < 0.05)
        #expect(abs(variance - 4) < 0.15)
        let u = Tensor.uniform([20000], in: -1..<3, using: &first).scalars
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        #expect(abs(u.reduce(0, +) / 20000 - 1) < 0.05)
    }
}
