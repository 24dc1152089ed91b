import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("IA3")
struct IA3Tests {
    @Test("A PEFT-written IA3 adapter gives PEFT's logits", arguments: ["ia3-gpt2", "ia3-t5-v1_0"])
    func parity(name: String) throws {
        let fixture = try ParityFixture(name)
        let loaded = try FixtureModels.load(fixture.object["base_model"] as! String)
        let base = FixtureModels.module(loaded)
        base.eval()
        let peft = try loadPEFTModel(base, from: ParityFixture.folder(name))
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(
                FixtureModels.logits(loaded, parity).scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
        }
        let plain = try peft.withAdaptersDisabled { FixtureModels.logits(loaded, fixture.cases[0]) }
        #expect(maxDifferenceOverValidPositions(plain.scalars, fixture.cases[0]) > 1e-2)
    }

    @Test(
        "Defaults target c_attn and mlp.c_proj, scaling c_proj's input; a fresh adapter is the identity"
    )
    func defaults() throws {
        let model = tinyGPT2()
        let before = model(sampleTokens)
        let peft = try PEFTModel(model, configuration: IA3Configuration())
        let attention = model.transformer.blocks[0].attention.queryKeyValue as! IA3Linear
        let projection = (model.transformer.blocks[0].mlp as! GPT2MLP).project as! IA3Linear
        #expect(!attention.isFeedForward && projection.isFeedForward)
        #expect(!(model.transformer.blocks[0].attention.outputProjection is IA3Linear))
        #expect(
            attention.adapters["default"]!.vector.shape == [48, 1]
                && projection.adapters["default"]!.vector.shape == [1, 64])
        expectClose(model(sampleTokens), before, tolerance: 1e-6)
        #expect(peft.trainableParameters.reduce(0) { $0 + $1.count } == 2 * (48 + 64))
    }

    @Test("Training lowers the loss, keeps the base, and merging keeps the outputs")
    func trainAndMerge() throws {
        let model = tinyGPT2()
        let baseWeights = model.transformer.blocks[1].attention.queryKeyValue.namedParameters().map
        { $0.parameter.value.scalars }
        let peft = try PEFTModel(model, configuration: IA3Configuration())
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 5e-2, weightDecay: 0)
        var losses: [Float] = []
        for _ in 0..<30 {
            let loss = causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")
        let layer = model.transformer.blocks[1].attention.queryKeyValue as! IA3Linear
        #expect(layer.base.namedParameters().map { $0.parameter.value.scalars } == baseWeights)
        peft.eval()
        let unmerged = model(sampleTokens)
        try peft.merge()
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
        try peft.unmerge()
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-4)
        try peft.mergeAndUnload()
        #expect(model.transformer.blocks[1].attention.queryKeyValue is Conv1D)
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
    }

    @Test("An IA3 adapter saved here reloads with the same outputs")
    func roundTrip() throws {
        let model = tinyT5()
        let peft = try PEFTModel(model, configuration: IA3Configuration())
        var generator = RandomGenerator(seed: 3)
        for parameter in peft.trainableParameters {
            parameter.assign(
                Tensor.normal(parameter.shape, mean: 1, standardDeviation: 0.3, using: &generator))
        }
        let inputs = [[3, 8, 12, 5, 1]]
        let expected = model(inputIDs: inputs, decoderInputIDs: [[0, 4, 9]])
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let fresh = tinyT5()
        _ = try PEFTModel.load(fresh, from: folder)
        expectClose(
            fresh(inputIDs: inputs, decoderInputIDs: [[0, 4, 9]]), expected, tolerance: 1e-6)
        let configuration = try AdapterFolder.readConfiguration(from: folder) as! IA3Configuration
        #expect(configuration.feedForwardModules == .suffixes(["wo"]))
    }
}
