import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("Sequence classification")
struct SequenceClassificationTests {
    func logits(_ model: some SequenceClassifier, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            model.classificationLogits(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
        }
    }

    @Test("GPT2ForSequenceClassification gives transformers' pooled logits with either padding")
    func baseParity() throws {
        let fixture = try ParityFixture("gpt2-tiny-seq-cls")
        let model = try GPT2ForSequenceClassification(
            contentsOf: ParityFixture.folder("gpt2-tiny-seq-cls"))
        model.eval()
        #expect(model.labelCount == 3 && model.padTokenID == 0)
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(logits(model, parity).scalars, parity)
            #expect(difference <= 1e-4, "\(parity.name): max |Δ| \(difference)")
        }
    }

    @Test("A peft-written LoRA SEQ_CLS adapter gives peft's logits, its score head included")
    func adapterParity() throws {
        let fixture = try ParityFixture("lora-gpt2-seq-cls")
        let model = try GPT2ForSequenceClassification(
            contentsOf: ParityFixture.folder("gpt2-tiny-seq-cls"))
        model.eval()
        let before = logits(model, fixture.cases[0])
        let peft = try PEFTModel.load(model, from: ParityFixture.folder("lora-gpt2-seq-cls"))
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(logits(peft, parity).scalars, parity)
            #expect(difference <= 1e-4, "\(parity.name): max |Δ| \(difference)")
        }
        #expect(maxDifferenceOverValidPositions(before.scalars, fixture.cases[0]) > 1e-2)
    }

    @Test("A new SEQ_CLS adapter trains the score head in full, saves it, and learns a task")
    func training() throws {
        let model = GPT2ForSequenceClassification(
            configuration: GPT2Configuration {
                $0.vocabularySize = 16
                $0.maximumPositions = 8
                $0.embeddingSize = 16
                $0.layerCount = 2
                $0.headCount = 2
                $0.residualDropout = 0
                $0.embeddingDropout = 0
                $0.attentionDropout = 0
                $0.initializerRange = 0.2
            }, classification: SequenceClassificationSettings(labelCount: 2, padTokenID: 0),
            seed: 3)
        let headBefore = model.score.weight.scalars
        var configuration = LoRAConfiguration()
        configuration.rank = 4
        configuration.taskType = "SEQ_CLS"
        let peft = try PEFTModel(model, configuration: configuration)
        #expect(
            (peft.configurations["default"] as! LoRAConfiguration).modulesToSave == [
                "classifier", "score",
            ])
        #expect(model.score.$weight.isTrainable)
        // Label 1 when token 5 appears anywhere, else 0.
        var generator = RandomGenerator(seed: 9)
        func example() -> ([Int], Int) {
            let ids = (0..<6).map { _ in 1 + Int(generator.next() % 15) }
            return (ids, ids.contains(5) ? 1 : 0)
        }
        let heldOut = (0..<64).map { _ in example() }
        func accuracy() -> Double {
            let predicted = withoutGradients { peft(heldOut.map(\.0)) }.scalars
            let correct = heldOut.enumerated().filter { index, example in
                (predicted[2 * index + 1] > predicted[2 * index] ? 1 : 0) == example.1
            }.count
            return Double(correct) / Double(heldOut.count)
        }
        let start = accuracy()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 0.02, weightDecay: 0)
        peft.train()
        for _ in 0..<60 {
            let batch = (0..<16).map { _ in example() }
            sequenceClassificationLoss(logits: peft(batch.map(\.0)), labels: batch.map(\.1))
                .backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        peft.eval()
        let end = accuracy()
        print("seq-cls held-out accuracy \(start) → \(end)")
        #expect(end >= 0.9 && end > start + 0.2, "held-out accuracy \(start) → \(end)")

        let folder = testScratchRoot.appendingPathComponent(
            "peft-seq-cls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try peft.save(to: folder)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        #expect(file.tensorNames.contains("base_model.model.score.weight"))
        try peft.withAdaptersDisabled { #expect(model.score.weight.scalars == headBefore) }
    }

    @Test("A prompt-tuning SEQ_CLS adapter records and trains the score head as PEFT does")
    func promptTuningHead() throws {
        let model = try GPT2ForSequenceClassification(
            contentsOf: ParityFixture.folder("gpt2-tiny-seq-cls"))
        var configuration = PromptTuningConfiguration(virtualTokens: 2)
        configuration.taskType = "SEQ_CLS"
        let peft = try PEFTModel(model, configuration: configuration)
        #expect(peft.configurations["default"]?.modulesToSave == ["classifier", "score"])
        #expect(model.score.$weight.isTrainable)
        let data = try AdapterConfigurationFile.encode(peft.configurations["default"]!)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(json?["modules_to_save"] as? [String] == ["classifier", "score"])
    }
}
