import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Saves a LoRA adapter with random weights for `tinyGPT2()` and returns its folder.
private func savedAdapter(seed: UInt64, _ configure: (inout LoRAConfiguration) -> Void) throws
    -> URL
{
    let peft = try PEFTModel(tinyGPT2(), configuration: LoRAConfiguration(configure))
    randomizeAdapters(peft, seed: seed)
    let folder = try temporaryDirectory()
    try peft.save(to: folder)
    return folder
}

/// The logits of `tinyGPT2()` with the adapter in `folder` loaded the ordinary way.
private func freshLogits(_ folder: URL) throws -> Tensor {
    let peft = try PEFTModel.load(tinyGPT2(), from: folder)
    peft.eval()
    return peft.logits(DecoderInputs(tokenIDs: sampleTokens))
}

private func attentionAndProjection(rank: Int, alpha: Float) -> (inout LoRAConfiguration) -> Void {
    { configuration in
        configuration.rank = rank
        configuration.alpha = alpha
        configuration.targets = .suffixes(["c_attn", "c_proj"])
    }
}

@Suite("Hot-swapping LoRA adapters")
struct HotswapTests {
    @Test("Padding to a target rank leaves the outputs as they were and the ranks at the target")
    func paddingKeepsOutputs() throws {
        let first = try savedAdapter(seed: 1, attentionAndProjection(rank: 2, alpha: 4))
        let peft = try PEFTModel.load(tinyGPT2(), from: first)
        peft.eval()
        let before = peft.logits(DecoderInputs(tokenIDs: sampleTokens))
        try peft.prepareForHotswap(targetRank: 8)
        let layers = peft.adapterLayers().compactMap { $0.layer as? LoRALinear }
        #expect(layers.allSatisfy { $0.adapters["default"]!.rank == 8 })
        #expect(
            maxAbsoluteDifference(peft.logits(DecoderInputs(tokenIDs: sampleTokens)), before)
                <= 1e-6)
        #expect(throws: AdapterError.self) { try peft.prepareForHotswap(targetRank: 4) }
    }

    @Test(
        "Swapping in adapters of higher and lower rank and other alpha equals loading them afresh")
    func swapEqualsFreshLoad() throws {
        let first = try savedAdapter(seed: 1, attentionAndProjection(rank: 2, alpha: 4))
        let second = try savedAdapter(seed: 2, attentionAndProjection(rank: 8, alpha: 3))
        let third = try savedAdapter(seed: 3, attentionAndProjection(rank: 4, alpha: 16))
        let peft = try PEFTModel.load(tinyGPT2(), from: first)
        peft.eval()
        try peft.prepareForHotswap(targetRank: 8)
        let parameters = peft.base.namedParameters().map(\.parameter)
        try peft.hotswapAdapter(from: second, adapterName: "default")
        let swapped = peft.logits(DecoderInputs(tokenIDs: sampleTokens))
        #expect(maxAbsoluteDifference(swapped, try freshLogits(second)) <= 1e-6)
        #expect(maxAbsoluteDifference(swapped, try freshLogits(first)) > 1e-3)
        try peft.hotswapAdapter(from: third, adapterName: "default")
        #expect(
            maxAbsoluteDifference(
                peft.logits(DecoderInputs(tokenIDs: sampleTokens)), try freshLogits(third)) <= 1e-6)
        // In place: the very same parameter objects, shapes unchanged.
        let after = peft.base.namedParameters().map(\.parameter)
        #expect(after.count == parameters.count && zip(after, parameters).allSatisfy { $0 === $1 })
        // Saved, the padded adapter reloads to the same function (r and alpha record the padding).
        let saved = try temporaryDirectory()
        try peft.save(to: saved)
        #expect(
            maxAbsoluteDifference(
                peft.logits(DecoderInputs(tokenIDs: sampleTokens)), try freshLogits(saved)) <= 1e-6)
        let scaling = peft.adapterLayers().compactMap {
            ($0.layer as? LoRALinear)?.adapters["default"]?.scaling
        }
        #expect(scaling.allSatisfy { $0 == 4 })
        #expect((peft.configurations["default"] as? LoRAConfiguration)?.rank == 8)
        #expect((peft.configurations["default"] as? LoRAConfiguration)?.alpha == 32)
    }

    @Test("DoRA swaps too, and a module the new adapter leaves out passes the base through")
    func doraAndMissingModules() throws {
        let first = try savedAdapter(seed: 4) {
            $0.rank = 4
            $0.useDoRA = true
            $0.targets = .suffixes(["c_attn", "c_proj"])
        }
        let second = try savedAdapter(seed: 5) {
            $0.rank = 2
            $0.alpha = 6
            $0.useDoRA = true
            $0.targets = .suffixes(["c_attn"])
        }
        let peft = try PEFTModel.load(tinyGPT2(), from: first)
        peft.eval()
        try peft.hotswapAdapter(from: second, adapterName: "default")
        #expect(
            maxAbsoluteDifference(
                peft.logits(DecoderInputs(tokenIDs: sampleTokens)), try freshLogits(second)) <= 1e-5
        )
    }

    @Test(
        "Other target modules, a rank above the padded one, other settings and a merged adapter are refused"
    )
    func refusals() throws {
        let first = try savedAdapter(seed: 1, attentionAndProjection(rank: 4, alpha: 4))
        let otherTargets = try savedAdapter(seed: 2) {
            $0.rank = 4
            $0.targets = .suffixes(["c_attn", "c_fc"])
        }
        let tooLarge = try savedAdapter(seed: 3, attentionAndProjection(rank: 16, alpha: 4))
        let rsLoRA = try savedAdapter(seed: 4) {
            $0.rank = 4
            $0.useRSLoRA = true
            $0.targets = .suffixes(["c_attn", "c_proj"])
        }
        let peft = try PEFTModel.load(tinyGPT2(), from: first)
        peft.eval()
        try peft.prepareForHotswap(targetRank: 8)
        let before = peft.logits(DecoderInputs(tokenIDs: sampleTokens))
        do {
            try peft.hotswapAdapter(from: otherTargets, adapterName: "default")
            Issue.record("other targets were accepted")
        } catch AdapterError.unexpectedKeys(_, let keys) {
            #expect(keys.allSatisfy { $0.contains("mlp.c_fc") } && !keys.isEmpty)
        }
        do {
            try peft.hotswapAdapter(from: tooLarge, adapterName: "default")
            Issue.record("a rank above the padded one was accepted")
        } catch AdapterError.invalidConfiguration(let key, _) {
            #expect(key == "r")
        }
        #expect(
            throws: AdapterError.invalidConfiguration(
                key: "use_rslora", reason: "differs between the loaded and the new adapter")
        ) {
            try peft.hotswapAdapter(from: rsLoRA, adapterName: "default")
        }
        #expect(throws: AdapterError.self) {
            try peft.hotswapAdapter(from: first, adapterName: "nope")
        }
        // A refused swap changed nothing.
        #expect(peft.logits(DecoderInputs(tokenIDs: sampleTokens)).scalars == before.scalars)
        try peft.merge()
        #expect(throws: AdapterError.self) {
            try peft.hotswapAdapter(from: first, adapterName: "default")
        }
    }
}
