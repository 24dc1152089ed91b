import Foundation
import PEFTTestSupport
import PEFTTraining
import Testing

/// Examples of several lengths and formats: completions after prompts, and whole texts.
private let examples: [TextExample] = [
    TextExample(prompt: "ab", completion: "cde"),
    TextExample(prompt: "", completion: "hello there"),
    TextExample(prompt: "x", completion: "y"),
    TextExample(prompt: "four", completion: "4"),
    TextExample(prompt: "", completion: "zz"),
    TextExample(prompt: "long prompt", completion: "and its completion"),
]

/// A tiny random GPT-2 for the byte tokenizer with LoRA on every attention projection.
private func loraModel() throws -> PreparedModel {
    let model = GPT2LMHeadModel(
        configuration: GPT2Configuration {
            $0.vocabularySize = ByteTokenizer().vocabularySize
            $0.maximumPositions = 64
            $0.embeddingSize = 16
            $0.layerCount = 2
            $0.headCount = 2
            $0.initializerRange = 0.3
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.attentionDropout = 0
        }, seed: 3)
    let prepared = try PreparedModel(
        base: model, method: .lora, rank: 2, alpha: 4, targets: nil, virtualTokens: 1)
    // A trained-looking adapter: lora_B starts at zero, which would hide a wrong gradient path.
    var generator = RandomGenerator(seed: 11)
    for trainable in prepared.trainable {
        trainable.parameter.assign(
            Tensor.normal(trainable.parameter.shape, standardDeviation: 0.2, using: &generator))
    }
    return prepared
}

@Suite("Sequence packing")
struct PackedSequenceTests {
    let tokenizer = ByteTokenizer()

    @Test("First-fit decreasing: every example once, rows within the length, labels aligned")
    func packer() {
        let (rows, truncated) = PackedSequence.pack(
            examples, tokenizer: tokenizer, maximumLength: 24)
        #expect(truncated == 1)  // "long prompt and its completion" + EOS is 31 tokens
        #expect(rows.allSatisfy { $0.tokenIDs.count <= 24 })
        #expect(rows.reduce(0) { $0 + $1.segmentLengths.count } == examples.count)
        #expect(rows.count < examples.count)
        for row in rows {
            #expect(row.labels.count == row.tokenIDs.count)
            #expect(row.segmentLengths.reduce(0, +) == row.tokenIDs.count)
            var start = 0
            for length in row.segmentLengths {
                // No example's first token is predicted, by the example before it or at all.
                #expect(row.labels[start] == ignoredTarget)
                start += length
            }
        }
        // The same input packs the same way.
        #expect(PackedSequence.pack(examples, tokenizer: tokenizer, maximumLength: 24).rows == rows)
    }

    @Test("A packed batch has the loss and LoRA gradients of the same examples unpacked")
    func lossAndGradients() throws {
        let prepared = try loraModel()
        func lossAndGradients(_ batch: [TextExample]) -> (Float, [[Float]]) {
            for trainable in prepared.trainable { trainable.parameter.zeroGradient() }
            let measured = prepared.measuredLoss(batch, tokenizer: tokenizer, maximumLength: 64)
            measured.loss.backward()
            return (
                measured.loss.scalars[0],
                prepared.trainable.map { $0.parameter.gradient?.scalars ?? [] }
            )
        }
        let (rows, _) = PackedSequence.pack(examples, tokenizer: tokenizer, maximumLength: 32)
        #expect(rows.count == 2)  // six examples in two rows
        let (unpackedLoss, unpackedGradients) = lossAndGradients(examples)
        let (packedLoss, packedGradients) = lossAndGradients(rows.map(TextExample.init(packed:)))
        #expect(abs(packedLoss - unpackedLoss) <= 1e-5 * abs(unpackedLoss))
        #expect(unpackedGradients.allSatisfy { !$0.isEmpty })
        for (packed, unpacked) in zip(packedGradients, unpackedGradients) {
            expectClose(packed, unpacked, tolerance: 1e-5)
        }
    }

    @Test("A batch can hold packed and unpacked rows; the batch keeps the segments apart")
    func batchSegments() throws {
        let (rows, _) = PackedSequence.pack(
            Array(examples.prefix(3)), tokenizer: tokenizer, maximumLength: 64)
        let batch = CausalLanguageModelingBatch(
            examples: [TextExample(packed: rows[0]), examples[3]], tokenizer: tokenizer)
        let segments = try #require(batch.segmentIDs)
        #expect(Set(segments[0]) == [0, 1, 2])
        // The unpacked row is one segment, then padding of its own.
        #expect(segments[1].prefix(6) == [0, 0, 0, 0, 0, 0] && segments[1].last == -1)
        #expect(batch.decoderInputs.segmentIDs == segments)
    }
}
