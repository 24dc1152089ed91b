import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

/// The logits of `examples` packed one after another into each row of a batch (right-padded with
/// token 0 to the longest row), next to each example's logits computed alone.
private func packedAndAlone(
    _ rows: [[[Int]]], logits: (DecoderInputs) -> Tensor
) -> [(packed: [Float], alone: [Float])] {
    let lengths = rows.map { $0.reduce(0) { $0 + $1.count } }
    let length = lengths.max()!
    var inputs = DecoderInputs(
        tokenIDs: rows.map { row in
            row.flatMap { $0 } + [Int](repeating: 0, count: length - row.joined().count)
        },
        attentionMask: lengths.map { real in (0..<length).map { $0 < real ? 1 : 0 } })
    inputs.segmentIDs = rows.map { row in
        row.enumerated().flatMap { [Int](repeating: $0.offset, count: $0.element.count) }
            + [Int](repeating: -1, count: length - row.joined().count)
    }
    let packed = logits(inputs)
    let vocabulary = packed.shape[2]
    let values = packed.scalars
    var pairs: [(packed: [Float], alone: [Float])] = []
    for (b, row) in rows.enumerated() {
        var start = 0
        for example in row {
            let begin = (b * length + start) * vocabulary
            let slice = Array(values[begin..<begin + example.count * vocabulary])
            pairs.append((slice, logits(DecoderInputs(tokenIDs: [example])).scalars))
            start += example.count
        }
    }
    return pairs
}

private let rows: [[[Int]]] = [
    [[1, 5, 9, 2], [7, 3, 3], [4, 8]],
    [[6, 2, 9, 1, 5, 7], [3]],
]

@Suite("Packed rows: examples in one row compute what they compute alone")
struct PackedRowsTests {
    @Test("GPT-2: positions restart and attention stays inside each example")
    func gpt2() {
        let model = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 12
                $0.maximumPositions = 16
                $0.embeddingSize = 16
                $0.layerCount = 2
                $0.headCount = 2
                $0.initializerRange = 0.3
                $0.residualDropout = 0
                $0.embeddingDropout = 0
                $0.attentionDropout = 0
            }, seed: 5)
        model.train(false)
        for (packed, alone) in packedAndAlone(rows, logits: { model($0) }) {
            expectClose(packed, alone, tolerance: 1e-5)
        }
    }

    @Test(
        "Llama family: RoPE positions restart per example; a sliding window applies inside each",
        arguments: [nil, 2])
    func llama(window: Int?) {
        let model = LlamaForCausalLM(
            configuration: LlamaConfiguration {
                $0.modelType = window == nil ? "llama" : "mistral"
                $0.vocabularySize = 12
                $0.hiddenSize = 8
                $0.intermediateSize = 12
                $0.layerCount = 2
                $0.headCount = 4
                $0.keyValueHeads = 2
                $0.maximumPositions = 16
                $0.initializerRange = 0.5
                $0.slidingWindow = window
            }, seed: 7)
        model.train(false)
        for (packed, alone) in packedAndAlone(rows, logits: { model.logits($0) }) {
            expectClose(packed, alone, tolerance: 1e-5)
        }
    }

    @Test("Without segment ids the examples of a row would see each other (the test can fail)")
    func packingMatters() {
        let model = LlamaForCausalLM(
            configuration: LlamaConfiguration {
                $0.vocabularySize = 12
                $0.hiddenSize = 8
                $0.intermediateSize = 12
                $0.layerCount = 1
                $0.headCount = 2
                $0.keyValueHeads = 2
                $0.maximumPositions = 16
            }, seed: 7)
        let joined = model.logits(DecoderInputs(tokenIDs: [[1, 5, 9, 7, 3]])).scalars
        let second = model.logits(DecoderInputs(tokenIDs: [[7, 3]])).scalars
        #expect(zip(joined.suffix(second.count), second).contains { abs($0 - $1) > 1e-3 })
    }
}
