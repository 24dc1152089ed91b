import Foundation
import PEFTTestSupport
import Testing

@testable import PEFTTensor

/// `low_precision.json`, written by `Scripts/fixtures/make_low_precision_fixtures.py` with
/// bitsandbytes (on the CPU) and PyTorch.
struct LowPrecisionFixture: Decodable {
    struct NF4Case: Decodable {
        let name: String
        let shape: [Int]
        let values: [Float]
        let packed: [UInt8]
        let absmax: [Float]
        let dequantized: [Float]
    }
    struct BF16Case: Decodable {
        let valueBits: [UInt32]
        let bits: [UInt16]
        var values: [Float] { valueBits.map(Float.init(bitPattern:)) }

        enum CodingKeys: String, CodingKey {
            case valueBits = "value_bits"
            case bits
        }
    }
    let codeBook: [Float]
    let nf4: [NF4Case]
    let bf16: BF16Case

    enum CodingKeys: String, CodingKey {
        case codeBook = "code_book"
        case nf4, bf16
    }

    static let shared: LowPrecisionFixture = {
        let url = Fixtures.url("low_precision.json")
        do {
            return try JSONDecoder().decode(LowPrecisionFixture.self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure(
                "\(url.path) could not be read (\(error)); regenerate it with Scripts/fixtures/make_low_precision_fixtures.py"
            )
        }
    }()
}

@Suite("Low-precision frozen weights")
struct LowPrecisionTests {
    let fixture = LowPrecisionFixture.shared

    @Test("The NF4 code book is bitsandbytes' to the last bit")
    func codeBook() {
        #expect(NF4.codeBook == fixture.codeBook)
    }

    @Test("NF4 quantisation gives bitsandbytes' packed codes, absmax and dequantised values")
    func nf4MatchesBitsAndBytes() throws {
        for reference in fixture.nf4 {
            let matrix = Tensor(shape: reference.shape, scalars: reference.values)
            let quantized = LowPrecisionMatrix(matrix, format: .nf4)
            let stored = try #require(quantized.nf4Storage)
            #expect(stored.codes == reference.packed, "\(reference.name): packed codes")
            #expect(stored.absmax == reference.absmax, "\(reference.name): absmax")
            #expect(quantized.dequantized().scalars == reference.dequantized, "\(reference.name)")
        }
    }

    @Test("Float32 to bf16 rounds as PyTorch does: ties to even, infinities kept")
    func bf16Rounding() {
        let bits = fixture.bf16.values.map(BFloat16Bits.rounding)
        #expect(bits == fixture.bf16.bits)
        let matrix = Tensor(shape: [1, bits.count], scalars: fixture.bf16.values)
        let stored = LowPrecisionMatrix(matrix, format: .bf16)
        #expect(stored.dequantized().scalars == bits.map(BFloat16Bits.float))
        // A value already in bf16 survives a round trip exactly.
        let again = LowPrecisionMatrix(stored.dequantized(), format: .bf16)
        #expect(again.dequantized().scalars == stored.dequantized().scalars)
    }

    @Test(
        "int8 keeps every value within half a step of its channel's absmax / 127",
        arguments: [0, 1])
    func int8RoundTrip(channelAxis: Int) {
        let matrix = randomTensor([6, 9], seed: 11, in: -3..<3)
        let stored = LowPrecisionMatrix(matrix, format: .int8, channelAxis: channelAxis)
        let restored = stored.dequantized().scalars
        for row in 0..<6 {
            for column in 0..<9 {
                let channel = (0..<(channelAxis == 0 ? 9 : 6)).map {
                    channelAxis == 0
                        ? matrix.scalars[row * 9 + $0] : matrix.scalars[$0 * 9 + column]
                }
                let step = channel.map(abs).max()! / 127
                let index = row * 9 + column
                #expect(abs(restored[index] - matrix.scalars[index]) <= step / 2 * 1.0001)
            }
        }
        #expect(stored.byteCount == 54 + (channelAxis == 0 ? 6 : 9) * 4)
    }

    @Test(
        "A GEMM on a stored weight equals the GEMM on its dequantised copy",
        arguments: [FrozenWeightFormat.bf16, .int8, .nf4],
        [LinearWeightLayout.outputsByInputs, .inputsByOutputs])
    func gemmMatchesDequantized(format: FrozenWeightFormat, layout: LinearWeightLayout) {
        let x = randomTensor([2, 3, 40], seed: 1)
        let shape = layout == .outputsByInputs ? [24, 40] : [40, 24]
        let stored = LowPrecisionMatrix(
            randomTensor(shape, seed: 2), format: format,
            channelAxis: layout == .outputsByInputs ? 0 : 1)
        let bias = randomTensor([24], seed: 3)
        expectClose(
            linear(x, lowPrecisionWeight: stored, bias: bias, layout: layout),
            linear(x, weight: stored.dequantized(), bias: bias, layout: layout), tolerance: 1e-5)
        // One row (decoding): NF4 takes the fused row-by-row product.
        let token = randomTensor([1, 40], seed: 4)
        expectClose(
            linear(token, lowPrecisionWeight: stored, layout: layout),
            linear(token, weight: stored.dequantized(), layout: layout), tolerance: 1e-5)
    }

    @Test(
        "Weights larger than one panel are computed panel by panel, forward and backward",
        arguments: [LinearWeightLayout.outputsByInputs, .inputsByOutputs])
    func severalPanels(layout: LinearWeightLayout) {
        // 16,500 × 70 values: two panels of the 2²⁰-value scratch.
        let shape = layout == .outputsByInputs ? [16_500, 70] : [70, 16_500]
        let dense = randomTensor(shape, seed: 4)
        let stored = LowPrecisionMatrix(dense, format: .bf16)
        let reference = stored.dequantized()
        let inputs = randomTensor([3, 70], seed: 5)
        let x = inputs.requiringGradient()
        let output = linear(x, lowPrecisionWeight: stored, layout: layout)
        expectClose(output, linear(inputs, weight: reference, layout: layout), tolerance: 1e-4)
        output.sum().backward()
        let xReference = inputs.requiringGradient()
        linear(xReference, weight: reference, layout: layout).sum().backward()
        expectClose(x.gradient!, xReference.gradient!, tolerance: 1e-3)
    }

    @Test(
        "Gradients through a stored weight match finite differences (input and bias)",
        arguments: [LinearWeightLayout.outputsByInputs, .inputsByOutputs])
    func gradients(layout: LinearWeightLayout) {
        let stored = LowPrecisionMatrix(
            randomTensor(layout == .outputsByInputs ? [5, 4] : [4, 5], seed: 6), format: .nf4)
        expectGradientsMatchFiniteDifferences([
            randomTensor([2, 3, 4], seed: 7), randomTensor([5], seed: 8),
        ]) {
            linear($0[0], lowPrecisionWeight: stored, bias: $0[1], layout: layout)
        }
    }

    @Test("Rows gathered from a stored table are its dequantised rows")
    func gather() {
        let stored = LowPrecisionMatrix(randomTensor([10, 70], seed: 9), format: .nf4)
        let gathered = gatherRows(stored, indices: [3, 0, 9, 3], indexShape: [2, 2])
        #expect(gathered.shape == [2, 2, 70])
        #expect(
            gathered.scalars == gatherRows(stored.dequantized(), indices: [3, 0, 9, 3]).scalars)
    }

    @Test("Storage sizes: bf16 2 bytes a value, NF4 4.5 bits (4.127 with double-quantised scales)")
    func sizes() {
        let dense = randomTensor([64, 256], seed: 10)
        #expect(LowPrecisionMatrix(dense, format: .bf16).byteCount == 64 * 256 * 2)
        #expect(LowPrecisionMatrix(dense, format: .nf4).byteCount == 64 * 256 / 2 + 256 * 4)
        let double = LowPrecisionMatrix(dense, format: .nf4, doubleQuantizeScales: true)
        #expect(double.byteCount == 64 * 256 / 2 + 256 + 4 + 4)
        // Double quantisation moves each value by at most half a step of its block scale's grid.
        let plain = LowPrecisionMatrix(dense, format: .nf4).dequantized().scalars
        let error = zip(double.dequantized().scalars, plain).map { abs($0 - $1) }.max()!
        #expect(error < 0.01)
    }
}
