import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("Llama sequence classification")
struct LlamaSequenceClassificationTests {
    func logits(_ model: some SequenceClassifier, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            model.classificationLogits(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
        }
    }

    @Test("LlamaForSequenceClassification gives transformers' pooled logits with either padding")
    func baseParity() throws {
        let fixture = try ParityFixture("llama-tiny-seq-cls")
        let model = try LlamaForSequenceClassification(
            contentsOf: ParityFixture.folder("llama-tiny-seq-cls"))
        model.eval()
        #expect(model.labelCount == 3 && model.padTokenID == 0)
        #expect(model.configuration.keyValueHeadCount < model.configuration.headCount)
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(logits(model, parity).scalars, parity)
            #expect(difference <= 1e-4, "\(parity.name): max |Δ| \(difference)")
        }
    }

    @Test(
        "A peft-written LoRA SEQ_CLS adapter on Llama gives peft's logits, its score head included")
    func adapterParity() throws {
        let fixture = try ParityFixture("lora-llama-seq-cls")
        let model = try LlamaForSequenceClassification(
            contentsOf: ParityFixture.folder("llama-tiny-seq-cls"))
        model.eval()
        let before = logits(model, fixture.cases[0])
        let peft = try PEFTModel.load(model, from: ParityFixture.folder("lora-llama-seq-cls"))
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(logits(peft, parity).scalars, parity)
            #expect(difference <= 1e-4, "\(parity.name): max |Δ| \(difference)")
        }
        #expect(maxDifferenceOverValidPositions(before.scalars, fixture.cases[0]) > 1e-2)
    }

    @Test("A causal-LM folder loads as a classifier: its body, a random head of the asked size")
    func fromCausalLanguageModel() throws {
        let folder = ParityFixture.folder("llama-tiny")
        let causal = try LlamaForCausalLM(contentsOf: folder)
        let model = try LlamaForSequenceClassification(contentsOf: folder, labelCount: 4)
        #expect(model.score.weight.shape == [4, causal.configuration.hiddenSize])
        #expect(
            model.model.tokenEmbedding.weight.scalars == causal.model.tokenEmbedding.weight.scalars)
        #expect(model.outputHeadPaths == ["score"])
        let ids = [[3, 4, 5, 6]]
        #expect(withoutGradients { model(ids) }.shape == [1, 4])
    }

    @Test("A folder of another family is refused, naming config.json")
    func wrongFamily() throws {
        #expect(throws: ModelLoadingError.self) {
            try LlamaForSequenceClassification(contentsOf: ParityFixture.folder("gpt2-tiny"))
        }
    }
}
