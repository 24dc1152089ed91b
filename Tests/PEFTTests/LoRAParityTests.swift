import Foundation
import PEFT
import PEFTTestSupport
import Testing

/// Loads a fixture's base model and runs it on a parity case.
enum FixtureModels {
    static func load(_ name: String) throws -> LoadedModel {
        try LoadedModel(contentsOf: ParityFixture.folder(name))
    }

    static func module(_ loaded: LoadedModel) -> any AdaptableModel { loaded.model }

    /// The logits of a container of either family for a parity case.
    static func logits(_ peft: any PEFTModelProtocol, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            if let decoder = peft as? any CausalLanguageModel {
                return decoder.logits(
                    DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
            }
            let model = peft as! any Seq2SeqLanguageModel
            let encoded = model.encode(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
            return model.decode(
                DecoderInputs(tokenIDs: parity.decoderInputIDs!), encoderOutput: encoded,
                encoderMask: parity.attentionMask)
        }
    }

    static func logits(_ loaded: LoadedModel, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            switch loaded {
            case .gpt2(let model): model(parity.inputIDs, attentionMask: parity.attentionMask)
            case .t5(let model):
                model(
                    inputIDs: parity.inputIDs, attentionMask: parity.attentionMask,
                    decoderInputIDs: parity.decoderInputIDs!)
            }
        }
    }
}

@Suite("LoRA parity with Python peft")
struct LoRAParityTests {
    static let adapters = [
        "lora-gpt2-attn-proj", "lora-gpt2-rslora-bias", "lora-gpt2-dora", "lora-t5-v1_0-qv",
        "lora-t5-v1_1-all-linear", "lora-gpt2-embedding", "lora-gpt2-patterns",
    ]

    @Test("A PEFT-written LoRA adapter gives PEFT's logits", arguments: adapters)
    func adapterLogits(name: String) throws {
        let fixture = try ParityFixture(name)
        let loaded = try FixtureModels.load(fixture.object["base_model"] as! String)
        let base = FixtureModels.module(loaded)
        base.eval()
        let before = FixtureModels.logits(loaded, fixture.cases[0])
        let peft = try loadPEFTModel(base, from: ParityFixture.folder(name))
        #expect(peft.trainableParameters.isEmpty)
        for parity in fixture.cases {
            let logits = FixtureModels.logits(loaded, parity)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
        }
        // The adapter really changes the model: a silently ignored adapter would fail here.
        #expect(maxDifferenceOverValidPositions(before.scalars, fixture.cases[0]) > 1e-2)
    }
}
