import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// The recorded AdaLoRA training run of `Fixtures/adalora-allocator` (see
/// `Scripts/fixtures/make_adalora_fixtures.py`).
private struct AllocatorRecording {
    let steps: [[String: Any]]
    let configuration: [String: Any]
    let tensors: SafeTensorsFile

    init() throws {
        let folder = ParityFixture.folder("adalora-allocator")
        let data = try Data(contentsOf: folder.appendingPathComponent("allocator.json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        steps = object["steps"] as! [[String: Any]]
        configuration = object["configuration"] as! [String: Any]
        tensors = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("allocator.safetensors"))
    }

    func tensor(_ key: String) throws -> Tensor {
        let info = try #require(tensors.info(key), "missing \(key)")
        let storage = TensorStorage(count: info.elementCount)
        try tensors.copyFloats(key, into: storage.mutableBuffer)
        return Tensor(shape: info.shape, storage: storage)
    }

    func has(_ key: String) -> Bool { tensors.info(key) != nil }
}

/// Seeded values on every trainable tensor, so a fresh adapter changes the model.
private func perturbTrainables(_ peft: any PEFTModelProtocol, seed: UInt64, scale: Float) {
    var generator = RandomGenerator(seed: seed)
    for parameter in peft.trainableParameters {
        parameter.assign(
            withoutGradients {
                Tensor.normal(parameter.shape, standardDeviation: scale, using: &generator)
            })
    }
}

@Suite("AdaLoRA")
struct AdaLoRATests {
    @Test(
        "A PEFT-written AdaLoRA adapter gives PEFT's logits",
        arguments: [
            "adalora-llama-rank-pattern", "adalora-t5-v1_0-rank-pattern", "adalora-t5-v1_1",
            "adalora-gpt2-conv1d", "adalora-allocator",
        ])
    func parity(name: String) throws {
        let (peft, _) = try expectAdapterParity(name)
        let configuration = try #require(peft.configurations["default"] as? AdaLoRAConfiguration)
        #expect(configuration.fanInFanOut == (name == "adalora-gpt2-conv1d"))
        // Every layer was resized to the ranks the file holds, and ranknum kept init_r.
        let file = try SafeTensorsFile(
            contentsOf: ParityFixture.folder(name).appendingPathComponent(AdapterFolder.weightsFile)
        )
        var layers = 0
        for (path, module) in peft.baseModule.namedModules() {
            guard let layer = module as? AdaLoRALinear, let triplets = layer.adapters["default"]
            else { continue }
            layers += 1
            let stored = try #require(file.info("base_model.model.\(path).lora_A"))
            #expect(triplets.rank == stored.shape[0], "\(path)")
            let expectedRankNumber = triplets.rank == 0 ? 0 : Float(configuration.initialRank)
            #expect(triplets.rankNumber == expectedRankNumber, "\(path)")
        }
        #expect(layers == (configuration.rankPattern?.count ?? layers))
        #expect(layers > 0)
    }

    @Test(
        "Mistral: all-linear parity with PEFT, and no default AdaLoRA targets, as in PEFT's table")
    func mistral() throws {
        let name = "adalora-mistral-all-linear"
        let fixture = try ParityFixture(name)
        let peft = try PEFTModel.load(
            try LlamaFixtures.load("mistral-tiny"), from: ParityFixture.folder(name))
        var worst: Float = 0
        for parity in fixture.cases {
            let difference = maxDifferenceOverValidPositions(
                LlamaFixtures.logits(peft, parity).scalars, parity)
            worst = max(worst, difference)
        }
        #expect(worst <= 1e-4, "max |Δ| \(worst)")
        let ranks = peft.adapterLayers().compactMap {
            ($0.layer as? AdaLoRALinear)?.adapters["default"]?.rank
        }
        #expect(ranks.count == 14 && ranks.contains(0) && ranks.contains(1))
        #expect {
            try PEFTModel(
                try LlamaFixtures.load("mistral-tiny"),
                configuration: AdaLoRAConfiguration { $0.totalSteps = 10 })
        } throws: { error in
            if case AdapterError.invalidConfiguration(key: "target_modules", _) = error {
                return true
            }
            return false
        }
    }

    @Test("T5's default AdaLoRA targets are PEFT's q, k, v, o, wi, wo; Llama's q_proj, v_proj")
    func defaultTargets() throws {
        let loaded = try FixtureModels.load("t5-v1_0-tiny")
        let peft = try makePEFTModel(
            FixtureModels.module(loaded),
            configuration: AdaLoRAConfiguration { $0.totalSteps = 10 })
        let configuration = try #require(peft.configurations["default"] as? AdaLoRAConfiguration)
        #expect(configuration.targets == .suffixes(["q", "k", "v", "o", "wi", "wo"]))
        let llama = try PEFTModel(
            try LlamaFixtures.load("llama-tiny"),
            configuration: AdaLoRAConfiguration { $0.totalSteps = 10 })
        #expect(
            (llama.configurations["default"] as? AdaLoRAConfiguration)?.targets
                == .suffixes(["q_proj", "v_proj"]))
        // init_r 12, E = 0: nothing changes yet; A [12, 16], E [12, 1], B [out, 12] per layer.
        let layer = try #require(
            llama.base.model.layers[0].attention.valueProjection as? AdaLoRALinear)
        let triplets = try #require(layer.adapters["default"])
        #expect(triplets.down.shape == [12, 16] && triplets.up.shape == [8, 12])
        #expect(triplets.singularValues.value.scalars.allSatisfy { $0 == 0 })
        #expect(triplets.factor == 8 / (12 + 1e-5))
    }

    @Test("The budget schedule is PEFT's cubic, masking every deltaT steps")
    func budgetSchedule() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let peft = try PEFTModel(
            model,
            configuration: AdaLoRAConfiguration {
                $0.targets = .suffixes(["q_proj"])
                $0.initialRank = 8
                $0.targetRank = 4
                $0.initialWarmupSteps = 2
                $0.finalSteps = 3
                $0.totalSteps = 12
                $0.allocationInterval = 2
            })
        let allocator = try peft.rankAllocator()
        #expect(allocator.initialBudget == 16 && allocator.targetBudget == 8)
        let schedule = (0..<12).map { allocator.budget(atStep: $0) }
        #expect(schedule.map(\.budget) == [16, 16, 16, 13, 10, 9, 8, 8, 8, 8, 8, 8])
        #expect(
            schedule.map(\.masks) == [
                false, false, false, false, true, false, true, false, true, false, true, true,
            ])
    }

    @Test("The allocator reproduces PEFT's scores, masks and rank pattern from the same gradients")
    func allocatorReplay() throws {
        let recording = try AllocatorRecording()
        let settings = recording.configuration
        let model = try LlamaFixtures.load("llama-tiny")
        let peft = try PEFTModel(
            model,
            configuration: AdaLoRAConfiguration {
                $0.targets = .suffixes(["q_proj", "v_proj"])
                $0.alpha = 8
                $0.initialRank = settings["init_r"] as! Int
                $0.targetRank = settings["target_r"] as! Int
                $0.initialWarmupSteps = settings["tinit"] as! Int
                $0.finalSteps = settings["tfinal"] as! Int
                $0.allocationInterval = settings["deltaT"] as! Int
                $0.totalSteps = (settings["total_step"] as! Int)
                $0.sensitivityMomentum = (settings["beta1"] as! NSNumber).doubleValue
                $0.uncertaintyMomentum = (settings["beta2"] as! NSNumber).doubleValue
            })
        let allocator = try peft.rankAllocator()
        let layers = peft.adapterLayers().compactMap { path, layer in
            (layer as? AdaLoRALinear)?.adapters["default"].map { (path, $0) }
        }
        #expect(layers.count == 4)
        var masked = 0
        var checkedRegularizers = 0
        for (step, record) in recording.steps.enumerated() {
            // Steps after total_step − tfinal recorded no A and B.
            if step > 0, step <= 7, let expected = record["orthogonal_regularization"] as? NSNumber
            {
                // This step's forward saw the A and B the previous step left.
                let regularizer = try #require(allocator.additionalLoss()).scalar
                #expect(
                    abs(regularizer - expected.floatValue) <= 1e-4,
                    "step \(step): \(regularizer) vs \(expected)")
                checkedRegularizers += 1
            }
            for (path, triplets) in layers {
                for (key, parameter) in triplets.tensors {
                    let name = "\(step)/\(path).\(key)"
                    guard recording.has(name) else { continue }
                    parameter.assign(try recording.tensor(name))
                    if recording.has(name + ".grad") {
                        parameter.replaceGradient(with: try recording.tensor(name + ".grad"))
                    }
                }
            }
            #expect(allocator.budget(atStep: step).budget == (record["budget"] as! Int))
            allocator.update(step: step)
            let scores = allocator.tripletScores
            for (path, triplets) in layers {
                let after = try recording.tensor("\(step)/\(path).lora_E.after").scalars
                #expect(triplets.singularValues.value.scalars == after, "step \(step) \(path)")
                masked += after.filter { $0 == 0 }.count
                let scoreKey = "\(step)/\(path).score"
                if recording.has(scoreKey) {
                    let expected = try recording.tensor(scoreKey).scalars
                    let actual = try #require(scores[path])
                    for (a, e) in zip(actual, expected) {
                        #expect(abs(a - e) <= 1e-5 * abs(e) + 1e-12, "step \(step) \(path)")
                    }
                }
                for parameter in [triplets.down, triplets.up, triplets.singularValues] {
                    parameter.zeroGradient()
                }
            }
            let expectedPattern = record["rank_pattern"] as? [String: [Bool]]
            #expect(allocator.configuration.rankPattern == expectedPattern, "step \(step)")
        }
        #expect(masked > 0 && checkedRegularizers == 7)
        // The container recorded the final pattern, which is also the one PEFT saved.
        let saved = try #require(
            try AdapterFolder.readConfiguration(from: ParityFixture.folder("adalora-allocator"))
                as? AdaLoRAConfiguration)
        let recorded = try #require(peft.configurations["default"] as? AdaLoRAConfiguration)
        #expect(recorded.rankPattern == saved.rankPattern && saved.rankPattern != nil)
    }

    @Test("The orthogonal regulariser's gradients match finite differences")
    func regularizerGradients() {
        let down = randomTensor([3, 5], seed: 1)
        let up = randomTensor([4, 3], seed: 2)
        expectGradientsMatchFiniteDifferences([down, up], step: 1e-3, tolerance: 5e-3) {
            orthogonalRegularization(downs: [$0[0]], ups: [$0[1]]).reshaped(to: [1])
        }
        // ‖AAᵀ − I‖ and ‖BᵀB − I‖ are zero for orthonormal factors; a rank-0 factor adds nothing.
        let identity = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
        let empty = Tensor.zeros([0, 5])
        #expect(
            orthogonalRegularization(downs: [identity, empty], ups: [identity]).scalar == 0)
    }

    @Test("The fused SVD-form forward's gradients in A, E, B and x match finite differences")
    func forwardGradients() {
        let weight = randomTensor([4, 5], seed: 3)
        let bias = randomTensor([4], seed: 4)
        expectGradientsMatchFiniteDifferences(
            [
                randomTensor([3, 5], seed: 5), randomTensor([3, 1], seed: 6),
                randomTensor([4, 3], seed: 7), randomTensor([2, 5], seed: 8),
            ], step: 1e-3, tolerance: 5e-3
        ) {
            lowRankLinear(
                $0[3], weight: weight, bias: bias, layout: .outputsByInputs, down: $0[0] * $0[1],
                up: $0[2], scale: 8 / (3 + 1e-5))
        }
    }

    @Test(
        "Training with the allocator: loss falls, ranks are cut to the budget, base bit-identical")
    func training() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let before = baseParameterBits(model)
        let peft = try PEFTModel(
            model,
            configuration: AdaLoRAConfiguration {
                $0.targets = .suffixes(["q_proj", "v_proj", "down_proj"])
                $0.alpha = 16
                $0.initialRank = 6
                $0.targetRank = 3
                $0.scheduleBudget(totalSteps: 40)
            })
        let hook = try #require(try peft.trainingStepHook())
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 1e-2, weightDecay: 0)
        var losses: [Float] = []
        for step in 0..<40 {
            let task = causalLanguageModelingLoss(
                logits: peft.logits(DecoderInputs(tokenIDs: sampleTokens)), labels: sampleTokens)
            losses.append(task.scalar)
            (task + hook.additionalLoss()!).backward()
            if step == 0 {
                let withGradients = model.namedParameters().filter { $0.parameter.gradient != nil }
                #expect(withGradients.allSatisfy { $0.path.contains(".lora_") })
                #expect(withGradients.count == 2 * 3 * 3)
            }
            optimizer.step()
            try hook.optimizerDidStep(step)
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")
        let after = baseParameterBits(model)
        for (path, bits) in before { #expect(after[path] == bits, "\(path) changed") }
        let configuration = try #require(peft.configurations["default"] as? AdaLoRAConfiguration)
        let pattern = try #require(configuration.rankPattern)
        #expect(pattern.count == 6)
        let kept = pattern.values.reduce(0) { $0 + $1.filter { $0 }.count }
        #expect(kept <= 6 * 3 && kept > 0)
        // The masked singular values are zero, so the saved, cut adapter gives the same logits.
        let parity = try ParityFixture("llama-tiny").cases[1]
        peft.eval()
        let logits = LlamaFixtures.logits(peft, parity)
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        let storedRanks = file.tensorNames.filter { $0.hasSuffix(".lora_A") }.map {
            file.info($0)!.shape[0]
        }
        #expect(storedRanks.reduce(0, +) == kept)
        let reloaded = try PEFTModel.load(
            try LlamaFixtures.load("llama-tiny"), from: folder, isTrainable: true)
        expectClose(LlamaFixtures.logits(reloaded, parity), logits, tolerance: 1e-5)
        // The cut adapter cannot go on allocating: its masks no longer index its rows.
        #expect(throws: AdapterError.self) { try reloaded.rankAllocator() }
        try exportForPython(
            peft, name: "swift-adalora-llama-trained", baseModel: "llama-tiny", parity: parity,
            logits: logits)
    }

    @Test(
        "Merging keeps the outputs, unmerging restores the weights, on Linear and Conv1D bases",
        arguments: ["llama-tiny", "gpt2-tiny"])
    func merge(baseModel: String) throws {
        let subject = try MergeSubject(baseModel)
        let peft = try subject.apply(
            AdaLoRAConfiguration {
                $0.initialRank = 4
                $0.targets = .allLinear
                $0.initializesWeights = false
                $0.totalSteps = 10
            })
        perturbTrainables(peft, seed: 3, scale: 0.3)
        try subject.expectMergeRoundTrip(peft, wrapper: AdaLoRALinear.self)
    }

    @Test("Adapters saved here reload with the same logits; the files are for Python too")
    func roundTrip() throws {
        let t5Parity = try ParityFixture("t5-v1_0-tiny").cases[1]
        let t5 = try FixtureModels.load("t5-v1_0-tiny")
        FixtureModels.module(t5).eval()
        var configuration = AdaLoRAConfiguration {
            $0.initialRank = 3
            $0.alpha = 6
            $0.bias = .loraOnly
            $0.totalSteps = 10
        }
        configuration.taskType = "SEQ_2_SEQ_LM"
        configuration.baseModelNameOrPath = "t5-v1_0-tiny"
        let t5PEFT = try makePEFTModel(FixtureModels.module(t5), configuration: configuration)
        perturbTrainables(t5PEFT, seed: 4, scale: 0.4)
        let t5Logits = FixtureModels.logits(t5, t5Parity)
        let folder = try temporaryDirectory()
        try t5PEFT.save(to: folder, adapters: nil)
        let reloaded = try FixtureModels.load("t5-v1_0-tiny")
        FixtureModels.module(reloaded).eval()
        _ = try loadPEFTModel(FixtureModels.module(reloaded), from: folder)
        expectClose(FixtureModels.logits(reloaded, t5Parity), t5Logits, tolerance: 1e-6)
        try exportForPython(
            t5PEFT, name: "swift-adalora-t5", baseModel: "t5-v1_0-tiny", parity: t5Parity,
            logits: t5Logits)

        let gptParity = try ParityFixture("gpt2-tiny").cases[1]
        let gpt = try FixtureModels.load("gpt2-tiny")
        FixtureModels.module(gpt).eval()
        var gptConfiguration = AdaLoRAConfiguration {
            $0.initialRank = 4
            $0.targets = .suffixes(["c_attn", "c_proj"])
            $0.initializesWeights = false
            $0.totalSteps = 10
        }
        gptConfiguration.taskType = "CAUSAL_LM"
        gptConfiguration.baseModelNameOrPath = "gpt2-tiny"
        let gptPEFT = try makePEFTModel(FixtureModels.module(gpt), configuration: gptConfiguration)
        perturbTrainables(gptPEFT, seed: 5, scale: 0.3)
        let applied = try #require(gptPEFT.configurations["default"] as? AdaLoRAConfiguration)
        #expect(applied.fanInFanOut)
        let gptLogits = FixtureModels.logits(gpt, gptParity)
        try exportForPython(
            gptPEFT, name: "swift-adalora-gpt2", baseModel: "gpt2-tiny", parity: gptParity,
            logits: gptLogits)
    }

    @Test("The configuration reads and writes PEFT's keys, and refuses bad values by key")
    func configuration() throws {
        let configuration = AdaLoRAConfiguration {
            $0.initialRank = 4
            $0.targetRank = 2
            $0.totalSteps = 20
            $0.initialWarmupSteps = 2
            $0.finalSteps = 5
            $0.allocationInterval = 3
            $0.sensitivityMomentum = 0.8
            $0.orthogonalRegularizationWeight = 0.25
            $0.targets = .suffixes(["q_proj"])
            $0.rankPattern = ["model.layers.0.self_attn.q_proj.lora_E": [true, false, true, true]]
        }
        let data = try AdapterConfigurationFile.encode(configuration)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["peft_type"] as? String == "ADALORA")
        #expect(object["init_r"] as? Int == 4 && object["deltaT"] as? Int == 3)
        #expect(object["total_step"] as? Int == 20 && object["beta1"] as? Double == 0.8)
        var decoded = try JSONDecoder().decode(AdaLoRAConfiguration.self, from: data)
        #expect(decoded == configuration)
        decoded.rankPattern = nil
        #expect(decoded != configuration)

        func refusal(_ json: String) -> String? {
            do {
                _ = try JSONDecoder().decode(AdaLoRAConfiguration.self, from: Data(json.utf8))
                return nil
            } catch AdapterError.invalidConfiguration(let key, _) {
                return key
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(#"{"peft_type": "ADALORA"}"#) == "total_step")
        #expect(refusal(#"{"peft_type": "ADALORA", "total_step": 0}"#) == "total_step")
        #expect(
            refusal(#"{"peft_type": "ADALORA", "total_step": 10, "use_dora": true}"#) == "use_dora")
        #expect(
            refusal(#"{"peft_type": "ADALORA", "total_step": 10, "tinit": 6, "tfinal": 4}"#)
                == "tinit")
        #expect(
            refusal(#"{"peft_type": "ADALORA", "total_step": 10, "orth_reg_weight": -1}"#)
                == "orth_reg_weight")
        #expect(refusal(#"{"peft_type": "ADALORA", "total_step": 10, "deltaT": 0}"#) == "deltaT")
        #expect(refusal(#"{"peft_type": "ADALORA", "total_step": 10, "beta2": 1}"#) == "beta2")
        #expect(
            refusal(
                #"{"peft_type": "ADALORA", "total_step": 10, "init_r": 2, "rank_pattern": {"a.lora_E": [true]}}"#
            ) == "rank_pattern.a.lora_E")
        #expect(
            refusal(#"{"peft_type": "ADALORA", "total_step": 10, "init_lora_weights": "pissa"}"#)
                == "init_lora_weights")
        // Keys may carry the adapter name, as PEFT's in-memory pattern does.
        let named = try PEFTModel(
            try LlamaFixtures.load("llama-tiny"),
            configuration: AdaLoRAConfiguration {
                $0.initialRank = 2
                $0.totalSteps = 10
                $0.targets = .suffixes(["q_proj"])
                $0.rankPattern = ["model.layers.0.self_attn.q_proj.lora_E.default": [true, false]]
            })
        #expect(
            (named.configurations["default"] as? AdaLoRAConfiguration)?.rankPattern == [
                "model.layers.0.self_attn.q_proj.lora_E": [true, false]
            ])
        // A pattern naming no wrapped layer is refused when the adapter is applied.
        #expect {
            try PEFTModel(
                try LlamaFixtures.load("llama-tiny"),
                configuration: AdaLoRAConfiguration {
                    $0.initialRank = 2
                    $0.totalSteps = 10
                    $0.rankPattern = ["model.layers.0.mlp.up_proj.lora_E": [true, false]]
                })
        } throws: { error in
            if case AdapterError.invalidConfiguration(key: let key, _) = error {
                return key == "rank_pattern.model.layers.0.mlp.up_proj.lora_E"
            }
            return false
        }
    }
}
