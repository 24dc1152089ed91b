import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("VeRA")
struct VeRATests {
    @Test(
        "A PEFT-written VeRA adapter gives PEFT's logits",
        arguments: ["vera-llama-bias", "vera-t5-v1_1", "vera-gpt2-conv1d"])
    func parity(name: String) throws {
        let (peft, _) = try expectAdapterParity(name)
        let configuration = try #require(peft.configurations["default"] as? VeRAConfiguration)
        let file = try SafeTensorsFile(
            contentsOf: ParityFixture.folder(name).appendingPathComponent(AdapterFolder.weightsFile)
        )
        // The shared projections came from the file, not from this library's generator.
        let projections =
            try #require(
                (peft as? PEFTModel<LlamaForCausalLM>)?.sharedModules["default"]
                    ?? (peft as? PEFTModel<GPT2LMHeadModel>)?.sharedModules["default"]
                    ?? (peft as? PEFTModel<T5ForConditionalGeneration>)?.sharedModules["default"])
            as? VeRAProjections
        #expect(projections?.down.shape == file.info("base_model.vera_A")?.shape)
        var stored = [Float](repeating: 0, count: projections?.down.count ?? 0)
        try stored.withUnsafeMutableBufferPointer {
            try file.copyFloats("base_model.vera_A", into: $0)
        }
        #expect(projections?.down.value.scalars == stored)
        #expect(configuration.fanInFanOut == (name == "vera-gpt2-conv1d"))
    }

    @Test("A fresh adapter changes nothing; the projections are sized by the largest target")
    func defaults() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let before = LlamaFixtures.logits(model, try ParityFixture("llama-tiny").cases[0])
        let peft = try PEFTModel(
            model,
            configuration: VeRAConfiguration {
                $0.rank = 8
                $0.targets = .suffixes(["v_proj", "down_proj"])
            })
        let projections = try #require(peft.sharedModules["default"] as? VeRAProjections)
        // v_proj is [16 → 8], down_proj [32 → 16]: A is [r, 32], B is [16, r].
        #expect(projections.down.shape == [8, 32] && projections.up.shape == [16, 8])
        #expect(!projections.down.isTrainable && !projections.up.isTrainable)
        let layer = try #require(model.model.layers[0].attention.valueProjection as? VeRALinear)
        #expect(layer.adapters["default"]!.lambdaB.value.scalars == [Float](repeating: 0, count: 8))
        #expect(
            layer.adapters["default"]!.lambdaD.value.scalars == [Float](repeating: 0.1, count: 8))
        // Two layers × (λ_b [8] + λ_d [8] on v_proj, λ_b [16] + λ_d [8] on down_proj).
        #expect(peft.trainableParameters.reduce(0) { $0 + $1.count } == 2 * (16 + 24))
        expectClose(
            LlamaFixtures.logits(peft, try ParityFixture("llama-tiny").cases[0]), before,
            tolerance: 0)
    }

    @Test("Two adapters keep their own projections; switching and deleting leave the other intact")
    func twoAdapters() throws {
        let loaded = try FixtureModels.load("t5-v1_1-tiny")
        let parity = try ParityFixture("vera-t5-v1_1").cases[0]
        FixtureModels.module(loaded).eval()
        let base = FixtureModels.logits(loaded, parity)
        let peft = try #require(
            try loadPEFTModel(
                FixtureModels.module(loaded), from: ParityFixture.folder("vera-t5-v1_1"))
                as? PEFTModel<T5ForConditionalGeneration>)
        try peft.addAdapter(
            "second",
            configuration: VeRAConfiguration {
                $0.rank = 8
                $0.targets = .suffixes(["q"])
            })
        #expect((peft.sharedModules["second"] as? VeRAProjections)?.down.shape == [8, 16])
        #expect((peft.sharedModules["default"] as? VeRAProjections)?.down.shape == [6, 16])
        let adapted = FixtureModels.logits(loaded, parity)
        #expect(maxDifferenceOverValidPositions(adapted.scalars, parity) <= 1e-4)
        try peft.setAdapter("second")
        // A fresh adapter has λ_b = 0: the base's logits.
        expectClose(FixtureModels.logits(loaded, parity), base, tolerance: 1e-6)
        try peft.setAdapter("default")
        try peft.deleteAdapter("second")
        expectClose(FixtureModels.logits(loaded, parity), adapted, tolerance: 0)
    }

    @Test("save_projection false and a bad r are refused by key")
    func refusals() throws {
        let json = #"{"peft_type": "VERA", "r": 4, "save_projection": false}"#
        #expect {
            try JSONDecoder().decode(VeRAConfiguration.self, from: Data(json.utf8))
        } throws: { error in
            (error as? AdapterError).map {
                if case .invalidConfiguration(key: "save_projection", _) = $0 { return true }
                return false
            } ?? false
        }
        #expect(
            throws: AdapterError.invalidConfiguration(key: "r", reason: "must be positive, got 0")
        ) {
            try PEFTModel(tinyGPT2(), configuration: VeRAConfiguration { $0.rank = 0 })
        }
    }

    @Test("Training moves only the vectors: loss falls and the base stays bit-identical")
    func training() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let before = baseParameterBits(model)
        let peft = try PEFTModel(model, configuration: VeRAConfiguration { $0.rank = 16 })
        let projections = try #require(peft.sharedModules["default"] as? VeRAProjections)
        let projectionBits = projections.parameters.map { $0.value.scalars.map(\.bitPattern) }
        peft.train()
        let optimizer = AdamW(
            peft.trainableParameters, learningRate: 2e-2, weightDecay: 0)
        var losses: [Float] = []
        for step in 0..<30 {
            let loss = causalLanguageModelingLoss(
                logits: peft.logits(DecoderInputs(tokenIDs: sampleTokens)), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            if step == 0 {
                let withGradients = model.namedParameters().filter { $0.parameter.gradient != nil }
                #expect(
                    withGradients.allSatisfy {
                        $0.path.contains(".vera_lambda_b.") || $0.path.contains(".vera_lambda_d.")
                    })
                #expect(withGradients.count == 8)
                #expect(projections.parameters.allSatisfy { $0.gradient == nil })
            }
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")
        let after = baseParameterBits(model)
        for (path, bits) in before { #expect(after[path] == bits, "\(path) changed") }
        #expect(projections.parameters.map { $0.value.scalars.map(\.bitPattern) } == projectionBits)
    }

    @Test(
        "Merging keeps the outputs, unmerging restores the weights, on Linear and Conv1D bases",
        arguments: ["llama-tiny", "gpt2-tiny"])
    func merge(baseModel: String) throws {
        let subject = try MergeSubject(baseModel)
        let peft = try subject.apply(
            VeRAConfiguration {
                $0.rank = 4
                $0.targets = .allLinear
                $0.initializesWeights = false
            })
        try subject.expectMergeRoundTrip(peft, wrapper: VeRALinear.self)
    }

    @Test("An adapter saved here reloads with the same logits, its projections under PEFT's keys")
    func roundTrip() throws {
        let parity = try ParityFixture("t5-v1_0-tiny").cases[1]
        let loaded = try FixtureModels.load("t5-v1_0-tiny")
        FixtureModels.module(loaded).eval()
        var configuration = VeRAConfiguration {
            $0.rank = 4
            $0.targets = .suffixes(["q", "v", "wo"])
            $0.bias = .all
        }
        configuration.taskType = "SEQ_2_SEQ_LM"
        configuration.baseModelNameOrPath = "t5-v1_0-tiny"
        let peft = try makePEFTModel(FixtureModels.module(loaded), configuration: configuration)
        var generator = RandomGenerator(seed: 5)
        perturb(peft.trainableParameters, standardDeviation: 0.5, using: &generator)
        let logits = FixtureModels.logits(loaded, parity)
        let folder = try temporaryDirectory()
        try peft.save(to: folder, adapters: nil)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        #expect(file.info("base_model.vera_A")?.shape == [4, 32])
        #expect(file.info("base_model.vera_B")?.shape == [16, 4])
        #expect(
            file.tensorNames.contains(
                "base_model.model.encoder.block.0.layer.1.DenseReluDense.wo.vera_lambda_b"))
        let reloadedBase = try FixtureModels.load("t5-v1_0-tiny")
        FixtureModels.module(reloadedBase).eval()
        _ = try loadPEFTModel(FixtureModels.module(reloadedBase), from: folder)
        expectClose(FixtureModels.logits(reloadedBase, parity), logits, tolerance: 1e-6)
        try exportForPython(
            peft, name: "swift-vera-t5", baseModel: "t5-v1_0-tiny", parity: parity, logits: logits)
    }

    @Test("Llama and GPT-2 (Conv1D) adapters saved here reload with the same logits")
    func exportLlamaAndGPT2() throws {
        let llamaParity = try ParityFixture("llama-tiny").cases[1]
        let llama = try LlamaFixtures.load("llama-tiny")
        var configuration = VeRAConfiguration {
            $0.rank = 8
            $0.targets = .allLinear
            $0.bias = .veraOnly
            $0.initializesWeights = false
        }
        configuration.taskType = "CAUSAL_LM"
        configuration.baseModelNameOrPath = "llama-tiny"
        let llamaPEFT = try PEFTModel(llama, configuration: configuration)
        for parameter in llamaPEFT.trainableParameters where parameter.shape.count == 1 {
            var generator = RandomGenerator(seed: UInt64(parameter.count))
            parameter.assign(
                withoutGradients {
                    parameter.value
                        + Tensor.normal(
                            parameter.shape, standardDeviation: 0.3, using: &generator)
                })
        }
        let llamaLogits = LlamaFixtures.logits(llamaPEFT, llamaParity)
        let folder = try temporaryDirectory()
        try llamaPEFT.save(to: folder)
        let reloaded = try PEFTModel.load(try LlamaFixtures.load("llama-tiny"), from: folder)
        expectClose(LlamaFixtures.logits(reloaded, llamaParity), llamaLogits, tolerance: 1e-6)
        try exportForPython(
            llamaPEFT, name: "swift-vera-llama", baseModel: "llama-tiny", parity: llamaParity,
            logits: llamaLogits)

        let gptParity = try ParityFixture("gpt2-tiny").cases[1]
        let gpt = try FixtureModels.load("gpt2-tiny")
        FixtureModels.module(gpt).eval()
        var gptConfiguration = VeRAConfiguration {
            $0.rank = 4
            $0.initializesWeights = false
        }
        gptConfiguration.taskType = "CAUSAL_LM"
        gptConfiguration.baseModelNameOrPath = "gpt2-tiny"
        let gptPEFT = try makePEFTModel(FixtureModels.module(gpt), configuration: gptConfiguration)
        let applied = try #require(gptPEFT.configurations["default"] as? VeRAConfiguration)
        #expect(applied.fanInFanOut && applied.targets == .suffixes(["c_attn"]))
        let gptLogits = FixtureModels.logits(gptPEFT, gptParity)
        try exportForPython(
            gptPEFT, name: "swift-vera-gpt2", baseModel: "gpt2-tiny", parity: gptParity,
            logits: gptLogits)
    }
}
