import Foundation
import PEFT
import PEFTTestSupport
import Testing

@Suite("Prompt learning parity with Python peft")
struct PromptLearningParityTests {
    static let adapters = [
        "prompt-tuning-gpt2", "prompt-tuning-t5", "p-tuning-gpt2", "p-tuning-t5",
        "prefix-tuning-gpt2",
        "prefix-tuning-gpt2-projection", "prefix-tuning-t5",
        // Three decoder layers pin peft 0.21's seq2seq prefix layout, which two layers cannot.
        "prefix-tuning-t5-3-layers",
    ]

    @Test(
        "A PEFT-written prompt-learning adapter gives PEFT's logits at the real positions",
        arguments: adapters)
    func adapterLogits(name: String) throws {
        let fixture = try ParityFixture(name)
        let loaded = try FixtureModels.load(fixture.object["base_model"] as! String)
        let base = FixtureModels.module(loaded)
        base.eval()
        let peft = try loadPEFTModel(base, from: ParityFixture.folder(name))
        #expect(peft.trainableParameters.isEmpty)
        for parity in fixture.cases {
            let logits = FixtureModels.logits(peft, parity)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
            let plain = FixtureModels.logits(loaded, parity)
            #expect(
                maxDifferenceOverValidPositions(plain.scalars, parity) > 1e-2,
                "the adapter changes nothing")
        }
    }
}
