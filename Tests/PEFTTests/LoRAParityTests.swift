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

    /// The logits of a base model of either architecture for a parity case.
    static func logits(_ loaded: LoadedModel, _ parity: ParityCase) -> Tensor {
        if let causal = loaded.causal { return logits(causal: causal, parity) }
        return logits(seq2Seq: loaded.seq2Seq!, parity)
    }

    /// The logits of a container of either architecture for a parity case.
    static func logits(_ peft: any PEFTModelProtocol, _ parity: ParityCase) -> Tensor {
        if let causal = peft as? any CausalLanguageModel { return logits(causal: causal, parity) }
        return logits(seq2Seq: peft as! any Seq2SeqLanguageModel, parity)
    }

    static func logits(causal model: any CausalLanguageModel, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            model.logits(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
        }
    }

    static func logits(seq2Seq model: any Seq2SeqLanguageModel, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            let encoded = model.encode(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
            return model.decode(
                DecoderInputs(tokenIDs: parity.decoderInputIDs!), encoderOutput: encoded,
                encoderMask: parity.attentionMask)
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
