import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("Safe merging and merging chosen adapters")
struct SafeMergeTests {
    @Test("A NaN in one layer's lora_B: the safe merge names that layer and merges nothing")
    func nonFiniteLayerIsNamed() throws {
        let model = tinyGPT2()
        model.eval()
        let peft = try model.applyLoRA(rank: 2, targets: .suffixes(["c_attn", "c_proj"]))
        randomizeAdapters(peft, seed: 3)
        let broken = try #require(
            peft.adapterLayers().first { $0.path == "transformer.h.1.attn.c_attn" }?.layer
                as? LoRALinear)
        let up = try #require(broken.adapters["default"]?.up)
        var values = up.value.scalars
        values[5] = .nan
        up.assign(Tensor(shape: up.shape, scalars: values))
        let before = baseParameterBits(model)
        let logits = model(sampleTokens)

        #expect(
            throws: AdapterError.nonFiniteMerge(
                adapter: "default", layer: "transformer.h.1.attn.c_attn")
        ) { try peft.merge(safe: true) }
        // Layers of block 0 merged before the broken one and were restored bit for bit.
        #expect(!peft.isMerged)
        #expect(baseParameterBits(model) == before)
        #expect(
            throws: AdapterError.nonFiniteMerge(
                adapter: "default", layer: "transformer.h.1.attn.c_attn")
        ) { try peft.mergeAndUnload(adapters: ["default"], safe: true) }
        #expect(peft.adapterLayers().count == 6)
        #expect(baseParameterBits(model) == before)
        let after = model(sampleTokens)
        #expect(zip(after.scalars, logits.scalars).allSatisfy { $0.bitPattern == $1.bitPattern })
        // Without safe the NaN goes in, as PEFT's unsafe merge lets it.
        try peft.merge(safe: false)
        #expect(model(sampleTokens).scalars.contains { $0.isNaN })
    }

    @Test("mergeAndUnload(adapters:) folds exactly the named adapters into a plain model")
    func mergeChosenAdapters() throws {
        let model = tinyGPT2()
        model.eval()
        let peft = try model.applyLoRA(rank: 2, adapterName: "a")
        try peft.addAdapter(
            "b",
            configuration: LoRAConfiguration {
                $0.rank = 3
                $0.targets = .suffixes(["c_attn", "c_fc"])
            })
        randomizeAdapters(peft, seed: 9)
        try peft.setAdapter("b")
        let withB = model(sampleTokens)
        try peft.setAdapter("a")
        let withA = model(sampleTokens)
        #expect(maxAbsoluteDifference(withA, withB) > 1e-2)
        let plain = try peft.mergeAndUnload(adapters: ["b"], safe: true)
        #expect(!plain.namedModules().contains { $0.module is LoRALinear })
        expectClose(plain(sampleTokens), withB, tolerance: 1e-5)
        #expect(throws: AdapterError.self) {
            try GPT2LMHeadModel(configuration: tinyGPT2().configuration, seed: 1)
                .applyLoRA(rank: 2).mergeAndUnload(adapters: ["missing"])
        }
    }
}
