import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Regression tests for the container defects a full read of the library found; each failed before
/// its fix.
@Suite("Container defects")
struct ContainerDefectTests {
    func temporaryFolder(_ name: String) -> URL {
        testScratchRoot.appendingPathComponent(
            "peft-\(name)-\(UUID().uuidString)")
    }

    @Test("A TEXT-initialised prompt-tuning adapter this library saved loads back")
    func textPromptLoads() throws {
        let model = tinyGPT2()
        let peft = try PEFTModel(
            model,
            configuration: PromptTuningConfiguration(
                virtualTokens: 3, initialization: .text("hi", tokenIDs: [3, 7])))
        let expected = withoutGradients { peft(sampleTokens) }
        let folder = temporaryFolder("text-prompt")
        defer { try? FileManager.default.removeItem(at: folder) }
        try peft.save(to: folder)
        let json = try String(
            contentsOf: folder.appendingPathComponent(AdapterFolder.configurationFile),
            encoding: .utf8)
        #expect(json.contains("\"TEXT\""))
        // The saved configuration has the text but not its token ids: loading must not need them.
        let reloaded = try PEFTModel.load(tinyGPT2(), from: folder)
        expectClose(withoutGradients { reloaded(sampleTokens) }, expected, tolerance: 1e-6)
    }

    @Test("LoRA's dropout is in the module tree, so reseeding it reproduces a run exactly")
    func loraDropoutResumes() throws {
        func train(_ peft: PEFTModel<GPT2LMHeadModel>, steps: Range<Int>) {
            let optimizer = SGD(peft.trainableParameters, learningRate: 0.5)
            peft.train()
            for step in steps {
                peft.reseedDropouts(seed: UInt64(step))
                causalLanguageModelingLoss(logits: peft(sampleTokens), labels: sampleTokens)
                    .backward()
                optimizer.step()
                optimizer.zeroGradients()
            }
        }
        let configure: (inout LoRAConfiguration) -> Void = {
            $0.dropout = 0.5
            $0.initialization = .random
        }
        let straight = try tinyGPT2().applyLoRA(rank: 2, configure: configure)
        #expect(
            straight.base.namedModules().contains {
                $0.path.hasSuffix("c_attn.lora_dropout.default")
            })
        train(straight, steps: 0..<4)

        let first = try tinyGPT2().applyLoRA(rank: 2, configure: configure)
        let initial = first.trainableParameters.map { $0.value.scalars }
        train(first, steps: 0..<2)
        let folder = temporaryFolder("lora-dropout")
        defer { try? FileManager.default.removeItem(at: folder) }
        try first.save(to: folder)
        let resumed = try PEFTModel.load(tinyGPT2(), from: folder, isTrainable: true)
        train(resumed, steps: 2..<4)
        for (a, b) in zip(straight.trainableParameters, resumed.trainableParameters) {
            #expect(a.value.scalars == b.value.scalars)
        }
        #expect(zip(initial, straight.trainableParameters).contains { $0 != $1.value.scalars })
    }

    @Test("Two adapters of equal rank on the same module start differently")
    func distinctInitialisation() throws {
        let peft = try tinyGPT2().applyLoRA(rank: 2) { $0.initialization = .random }
        var second = LoRAConfiguration()
        second.rank = 2
        second.initialization = .random
        try peft.addAdapter("second", configuration: second)
        let layer = peft.base.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        #expect(
            layer.adapters["default"]!.down.value.scalars
                != layer.adapters["second"]!.down.value.scalars)
    }

    @Test("Switching adapters off on a merged model unmerges for the scope and merges back")
    func disableMerged() throws {
        let model = tinyGPT2()
        let plain = withoutGradients { model(sampleTokens) }
        let peft = try model.applyLoRA(rank: 2) { $0.initialization = .random }
        let adapted = withoutGradients { peft(sampleTokens) }
        try peft.merge()
        let disabled = try peft.withAdaptersDisabled { withoutGradients { peft(sampleTokens) } }
        expectClose(disabled, plain, tolerance: 1e-5)
        #expect(peft.isMerged)
        expectClose(withoutGradients { peft(sampleTokens) }, adapted, tolerance: 1e-5)
    }

    @Test("Deleting the active or the last adapter leaves a consistent container")
    func deleteAdapters() throws {
        let model = tinyGPT2()
        let plain = withoutGradients { model(sampleTokens) }
        let peft = try model.applyLoRA(rank: 2, adapterName: "first") {
            $0.initialization = .random
        }
        var second = LoRAConfiguration()
        second.initialization = .random
        try peft.addAdapter("second", configuration: second)
        try peft.deleteAdapter("first")
        #expect(peft.activeAdapter == "second" && peft.adapterNames == ["second"])
        try peft.merge()
        try peft.deleteAdapter("second")
        #expect(peft.activeAdapter == nil && peft.adapterNames.isEmpty)
        #expect(peft.adapterLayers().isEmpty)
        expectClose(withoutGradients { model(sampleTokens) }, plain, tolerance: 1e-5)
        #expect(throws: AdapterError.self) { try peft.setAdapter("second") }
    }

    @Test("unload() takes prompt encoders away with the adapters")
    func unloadPromptEncoders() throws {
        let peft = try PEFTModel(
            tinyGPT2(), configuration: PromptTuningConfiguration(virtualTokens: 2))
        #expect(peft.promptEncoders.count == 1)
        try peft.unload()
        #expect(peft.promptEncoders.isEmpty && peft.configurations.isEmpty)
        #expect(peft.activeAdapter == nil)
        expectClose(
            withoutGradients { peft(sampleTokens) }, withoutGradients { peft.base(sampleTokens) },
            tolerance: 0)
    }

    @Test(
        "LoRA keys this library does not implement are refused by name",
        arguments: [
            ("layer_replication", "[[0, 1]]"), ("use_qalora", "true"),
            ("loftq_config", "{\"loftq_bits\": 4}"), ("eva_config", "{\"rho\": 2.0}"),
            ("corda_config", "{\"corda_method\": \"ipm\"}"), ("target_parameters", "[\"w\"]"),
            ("init_lora_weights", "\"pissa_niter_4\""),
        ])
    func refusedKeys(key: String, value: String) throws {
        let json = "{\"peft_type\": \"LORA\", \"\(key)\": \(value)}"
        #expect {
            try JSONDecoder().decode(LoRAConfiguration.self, from: Data(json.utf8))
        } throws: { error in
            (error as? AdapterError).map { "\($0)".contains(key) } ?? false
        }
        // PEFT's own "off" values still load.
        let off = """
            {"peft_type": "LORA", "layer_replication": null, "use_qalora": false,
             "loftq_config": {}, "eva_config": null, "corda_config": null, "target_parameters": null}
            """
        _ = try JSONDecoder().decode(LoRAConfiguration.self, from: Data(off.utf8))
    }

    @Test("DoRA on an embedding target is refused, not silently dropped")
    func doraEmbeddingRefused() throws {
        #expect(throws: AdapterError.self) {
            try tinyGPT2().applyLoRA(rank: 2, targets: .suffixes(["wte"])) { $0.useDoRA = true }
        }
    }

    @Test("applyLoRA's default alpha is twice the rank")
    func defaultAlpha() throws {
        let peft = try tinyGPT2().applyLoRA(rank: 4)
        let configuration = peft.configurations["default"] as! LoRAConfiguration
        #expect(configuration.alpha == 8)
        let layer = peft.base.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        #expect(layer.adapters["default"]!.scaling == 2)
    }

    @Test("A SELECTIVE folder loads into PEFTModel, switches off, and is registered for inspection")
    func selectiveFolderLoads() throws {
        let tuned = tinyGPT2()
        let selection = try ParameterSelection.biases(in: tuned)
        let original = try selection.snapshot(of: tuned)
        for (path, parameter) in tuned.namedParameters() where original[path] != nil {
            parameter.assign(withoutGradients { parameter.value + 0.25 })
        }
        let folder = temporaryFolder("selective")
        defer { try? FileManager.default.removeItem(at: folder) }
        try selection.saveDelta(of: tuned, relativeTo: original, to: folder)
        #expect(try AdapterFolder.readConfiguration(from: folder) is SelectiveConfiguration)

        let expected = withoutGradients { tuned(sampleTokens) }
        let base = tinyGPT2()
        let plain = withoutGradients { base(sampleTokens) }
        let peft = try PEFTModel.load(base, from: folder)
        expectClose(withoutGradients { peft(sampleTokens) }, expected, tolerance: 1e-6)
        let disabled = try peft.withAdaptersDisabled { withoutGradients { peft(sampleTokens) } }
        expectClose(disabled, plain, tolerance: 0)
        expectClose(withoutGradients { peft(sampleTokens) }, expected, tolerance: 1e-6)

        let resaved = temporaryFolder("selective-resaved")
        defer { try? FileManager.default.removeItem(at: resaved) }
        try peft.save(to: resaved)
        let again = try PEFTModel.load(tinyGPT2(), from: resaved)
        expectClose(withoutGradients { again(sampleTokens) }, expected, tolerance: 1e-6)
        try peft.unload()
        expectClose(withoutGradients { base(sampleTokens) }, plain, tolerance: 0)
    }
}
