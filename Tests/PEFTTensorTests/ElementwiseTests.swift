import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Elementwise operations")
struct ElementwiseTests {
    static let broadcastPairs: [([Int], [Int])] = [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [3, 1]),
        ([2, 3], []),
        ([1], [2, 3]),
    ]

    @Test("Broadcasting add, sub, mul and div have correct gradients", arguments: broadcastPairs)
    func broadcastingArithmetic(lhsShape: [Int], rhsShape: [Int]) {
        let lhs = randomTensor(lhsShape, seed: 1)
        let rhs = randomTensor(rhsShape, seed: 2, in: 0.5..<2)
        expectGradientsMatchFiniteDifferences([lhs, rhs]) { $0[0] + $0[1] }
        expectGradientsMatchFiniteDifferences([lhs, rhs]) { $0[0] - $0[1] }
        expectGradientsMatchFiniteDifferences([lhs, rhs]) { $0[0] * $0[1] }
        expectGradientsMatchFiniteDifferences([lhs, rhs]) { $0[0] / $0[1] }
    }

    @Test("Broadcasting produces the NumPy values")
    func broadcastValues() {
        let column = Tensor(shape: [2, 1], scalars: [1, 2])
        let row = Tensor([10, 20, 30])
        #expect((column + row).shape == [2, 3])
        #expect((column + row).scalars == [11, 21, 31, 12, 22, 32])
        #expect((row - column).scalars == [9, 19, 29, 8, 18, 28])
        #expect((Tensor([6, 8]) / Tensor([2])).scalars == [3, 4])
    }

    @Test("Scalar operations have correct values and gradients")
    func scalarOperations() {
        let values = Tensor(shape: [2, 2], scalars: [1.5, -2, 0.25, 4])
        #expect((values * 3).scalars == [4.5, -6, 0.75, 12])
        #expect((-2 * values).scalars == [-3, 4, -0.5, -8])
        #expect((values / 4).scalars == [0.375, -0.5, 0.0625, 1])
        #expect((values + 1).scalars == [2.5, -1, 1.25, 5])
        #expect((1 - values).scalars == [-0.5, 3, 0.75, -3])
        #expect((values - 0.5).scalars == [1, -2.5, -0.25, 3.5])
        #expect((2 / values).scalars == [Float(2) / 1.5, -1, 8, 0.5])
        #expect((-values).scalars == [-1.5, 2, -0.25, -4])
        #expect((values * 3).shape == [2, 2])
        let x = randomTensor([2, 3], seed: 3, in: 0.5..<2)
        expectGradientsMatchFiniteDifferences([x]) { $0[0] * 3 + 1 }
        expectGradientsMatchFiniteDifferences([x]) { 2 - $0[0] / 4 }
        expectGradientsMatchFiniteDifferences([x]) { 1 / $0[0] }
        expectGradientsMatchFiniteDifferences([x]) { -$0[0] }
    }

    static let unaryFunctions: [String: @Sendable (Tensor) -> Tensor] = [
        "exp": exp, "log": log, "sqrt": sqrt, "rsqrt": rsqrt, "pow": { pow($0, 3) }, "tanh": tanh,
        "sigmoid": sigmoid, "relu": relu, "gelu": gelu, "geluTanh": geluTanh, "silu": silu,
    ]

    @Test(
        "Unary functions and activations have correct gradients",
        arguments: unaryFunctions.keys.sorted())
    func unaryGradients(name: String) {
        let function = Self.unaryFunctions[name]!
        // Positive inputs keep log, sqrt and rsqrt defined; a second, signed case covers the activations.
        expectGradientsMatchFiniteDifferences([randomTensor([3, 4], seed: 4, in: 0.3..<2)]) {
            function($0[0])
        }
        if !["log", "sqrt", "rsqrt"].contains(name) {
            let signed = Tensor([-2.1, -1.3, -0.4, 0.35, 0.9, 1.7])
            expectGradientsMatchFiniteDifferences([signed]) { function($0[0]) }
        }
    }

    @Test("Activations match reference values")
    func activationValues() {
        let x = Tensor([-1, 0, 1, 2])
        expectClose(gelu(x).scalars, [-0.158_655_25, 0, 0.841_344_7, 1.954_499_7], tolerance: 1e-6)
        expectClose(geluTanh(x).scalars, [-0.158_808, 0, 0.841_192, 1.954_598], tolerance: 1e-5)
        expectClose(silu(x).scalars, [-0.268_941_4, 0, 0.731_058_6, 1.761_594_2], tolerance: 1e-6)
        expectClose(
            sigmoid(x).scalars, [0.268_941_4, 0.5, 0.731_058_6, 0.880_797], tolerance: 1e-6)
        #expect(relu(x).scalars == [0, 0, 1, 2])
    }
}
