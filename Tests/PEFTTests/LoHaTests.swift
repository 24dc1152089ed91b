import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("LoHa")
struct LoHaTests {
    @Test(
        "A PEFT-written LoHa adapter gives PEFT's logits (rank/alpha patterns, exclusions, layer selection)",
        arguments: ["loha-llama-patterns", "loha-t5-v1_1"])
    func parity(name: String) throws {
        let (peft, _) = try expectAdapterParity(name)
        let configuration = try #require(peft.configurations["default"] as? LoHaConfiguration)
        let (written, python) = try configurationKeys(configuration, fixture: name)
        #expect(written == python)
        guard name == "loha-llama-patterns" else { return }
        let layers = lycorisLayers(peft.baseModule, LoHaFactors.self)
        // Layer 0's gate_proj is excluded: 2 layers × 5 targets − 1.
        #expect(layers.count == 9)
        #expect(!layers.contains { $0.path == "model.layers.0.mlp.gate_proj" })
        let byPath = Dictionary(uniqueKeysWithValues: layers.map { ($0.path, $0.layer) })
        func factors(_ path: String) -> LoHaFactors? { byPath[path]?.adapters["default"] }
        #expect(factors("model.layers.0.mlp.down_proj")?.firstUp.shape == [16, 2])
        #expect(factors("model.layers.1.self_attn.q_proj")?.firstUp.shape == [16, 3])
        #expect(factors("model.layers.0.self_attn.q_proj")?.firstUp.shape == [16, 4])
        #expect(factors("model.layers.0.self_attn.v_proj")?.scaling == Float(3) / 4)
        #expect(factors("model.layers.1.mlp.up_proj")?.scaling == Float(10) / 4)
        #expect(factors("model.layers.0.mlp.down_proj")?.scaling == Float(6) / 2)
    }

    @Test("rank_pattern and alpha_pattern keys match as PEFT's get_pattern_key matches them")
    func patterns() {
        var settings = LyCORISSettings()
        settings.rankPattern = [
            "q_proj": 2, "^model.layers.0.mlp.down_proj": 3, #"layers\.1\..*_proj"#: 4, "proj": 5,
        ]
        settings.alphaPattern = ["q": 1.5]
        // What peft 0.21's get_pattern_key picks for each path (run), keys tried sorted.
        let expected = [
            "model.layers.0.self_attn.q_proj": 2, "model.layers.0.mlp.down_proj": 3,
            "model.layers.1.mlp.down_proj": 4, "model.layers.0.self_attn.xq_proj": 8,
            "model.layers.0.mlp.up_proj": 8, "encoder.block.0.layer.0.SelfAttention.q": 8,
        ]
        for (path, rank) in expected {
            #expect(settings.rank(for: path) == rank, "\(path)")
        }
        #expect(settings.alpha(for: "encoder.block.0.layer.0.SelfAttention.q") == 1.5)
        #expect(settings.scaling(for: "encoder.block.0.layer.0.SelfAttention.q") == 1.5 / 8)
        #expect(settings.alpha(for: "model.layers.0.self_attn.q_proj") == 8)
    }

    @Test("A fresh adapter changes nothing (hada_w2_b is zero) and targets the family's defaults")
    func defaults() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let parity = try ParityFixture("llama-tiny").cases[0]
        let before = LlamaFixtures.logits(model, parity)
        let peft = try PEFTModel(model, configuration: LoHaConfiguration { $0.rank = 4 })
        let configuration = try #require(peft.configurations["default"] as? LoHaConfiguration)
        #expect(configuration.targets == .suffixes(["q_proj", "v_proj"]))
        let layers = lycorisLayers(model, LoHaFactors.self)
        #expect(layers.count == 4)
        for (_, layer) in layers {
            let factors = try #require(layer.adapters["default"])
            #expect(factors.secondDown.value.scalars.allSatisfy { $0 == 0 })
            #expect(factors.firstDown.value.scalars.contains { $0 != 0 })
            #expect(
                factors.tensors.map(\.key) == ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"])
        }
        // q_proj [16 → 16] and v_proj [16 → 8], each 2·r·(out + in).
        let trainable: Int = peft.trainableParameters.reduce(0) { $0 + $1.count }
        #expect(trainable == 2 * (8 * 32 + 8 * 24))
        expectClose(LlamaFixtures.logits(peft, parity), before, tolerance: 0)
    }

    @Test(
        "Training moves only the factors: loss falls, the base stays bit-identical (Linear and Conv1D)",
        arguments: ["llama-tiny", "gpt2-tiny"])
    func training(baseModel: String) throws {
        try expectLyCORISTraining(
            LoHaConfiguration {
                $0.rank = 4
                $0.alpha = 8
                $0.targets = baseModel == "llama-tiny" ? .allLinear : .suffixes(["c_attn", "c_fc"])
            }, on: baseModel, marker: ".hada_w", learningRate: 1e-2)
    }

    @Test(
        "Merging keeps the outputs and unmerging restores the weights, on Linear and Conv1D bases",
        arguments: ["llama-tiny", "gpt2-tiny", "t5-v1_1-tiny"])
    func merge(baseModel: String) throws {
        let subject = try MergeSubject(baseModel)
        let peft = try subject.apply(
            LoHaConfiguration {
                $0.rank = 3
                $0.alpha = 4
                $0.targets = .allLinear
                $0.initializesWeights = false
            })
        try subject.expectMergeRoundTrip(peft, wrapper: LoHaLinear.self)
    }

    @Test("Rank dropout zeroes output rows and rescales the rest; module dropout skips the update")
    func dropouts() throws {
        var generator = RandomGenerator(seed: 4)
        let base = Linear(inputFeatures: 6, outputFeatures: 10, using: &generator)
        let layer = LoHaLinear(wrapping: base)
        let target = LyCORISTarget(path: "layer", inputs: 6, outputs: 10, rank: 2, alpha: 2)
        let factors = LoHaFactors(
            target: target,
            configuration: LoHaConfiguration {
                $0.initializesWeights = false
                $0.rankDropout = 0.5
            }, seed: 1)
        try layer.adapters.add("default", factors)
        layer.activeAdapters = ["default"]
        let x = Tensor.normal([3, 6], using: &generator)
        let plain = base(x).scalars
        let update = withoutGradients { linear(x, weight: factors.delta()) }.scalars
        layer.eval()
        expectClose(layer(x).scalars, zip(plain, update).map { $0 + $1 }, tolerance: 1e-6)
        layer.train()
        for _ in 0..<5 {
            let y = layer(x).scalars
            var kept: [Bool] = []
            for column in 0..<10 {
                kept.append(abs(y[column] - plain[column]) > 1e-7)
            }
            let factor = Float(10) / Float(kept.filter { $0 }.count)
            for row in 0..<3 {
                for column in 0..<10 {
                    let index = row * 10 + column
                    let expected = plain[index] + (kept[column] ? factor * update[index] : 0)
                    #expect(abs(y[index] - expected) < 1e-5)
                }
            }
        }

        let skipping = LoHaLinear(wrapping: base)
        try skipping.adapters.add(
            "default",
            LoHaFactors(
                target: target,
                configuration: LoHaConfiguration {
                    $0.initializesWeights = false
                    $0.moduleDropout = 0.5
                }, seed: 2))
        skipping.activeAdapters = ["default"]
        skipping.train()
        var skipped = 0
        for _ in 0..<40 where skipping(x).scalars == plain { skipped += 1 }
        #expect(skipped > 5 && skipped < 35)
        skipping.eval()
        #expect(skipping(x).scalars != plain)
    }

    @Test("Adapters saved here reload with the same logits (Llama with patterns, T5, GPT-2 Conv1D)")
    func roundTrip() throws {
        let llamaParity = try ParityFixture("llama-tiny").cases[1]
        var configuration = LoHaConfiguration {
            $0.rank = 4
            $0.alpha = 6
            $0.targets = .suffixes(["q_proj", "k_proj", "down_proj"])
            $0.rankPattern = ["down_proj": 2]
            $0.alphaPattern = [#"layers\.1\.self_attn\.k_proj"#: 12]
            $0.layersToTransform = [0, 1]
            $0.layersPattern = ["layers"]
        }
        configuration.taskType = "CAUSAL_LM"
        configuration.baseModelNameOrPath = "llama-tiny"
        let llama = try PEFTModel(
            try LlamaFixtures.load("llama-tiny"), configuration: configuration)
        perturbTrainable(llama, seed: 11, standardDeviation: 0.4)
        try expectSaveReload(
            llama, baseModel: "llama-tiny", parity: llamaParity, name: "swift-loha-llama",
            logits: { LlamaFixtures.logits($0 as! PEFTModel<LlamaForCausalLM>, llamaParity) },
            reloadedLogits: {
                let reloaded = try PEFTModel.load(try LlamaFixtures.load("llama-tiny"), from: $0)
                let file = try SafeTensorsFile(
                    contentsOf: $0.appendingPathComponent(AdapterFolder.weightsFile))
                #expect(
                    file.info("base_model.model.model.layers.1.mlp.down_proj.hada_w2_b")?.shape
                        == [2, 32])
                return LlamaFixtures.logits(reloaded, llamaParity)
            })

        for (baseModel, targets) in [
            ("t5-v1_1-tiny", ["q", "v", "wi_1"]), ("gpt2-tiny", ["c_attn"]),
        ] {
            try expectFixtureModelSaveReload(
                LoHaConfiguration {
                    $0.rank = 2
                    $0.alpha = 3
                    $0.targets = .suffixes(targets)
                }, baseModel: baseModel, seed: 12, t5ExportName: "swift-loha-t5")
        }
    }

    @Test("A GPT-2 Conv1D adapter merges into the [in, out] weights transformers loads")
    func mergedConv1D() throws {
        try expectMergedGPT2Export(
            LoHaConfiguration {
                $0.rank = 3
                $0.targets = .suffixes(["c_attn", "c_fc", "c_proj"])
            }, name: "swift-loha-gpt2-merged")
    }

    @Test("Two adapters on the same layers switch and delete independently")
    func twoAdapters() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let parity = try ParityFixture("llama-tiny").cases[0]
        let base = LlamaFixtures.logits(model, parity)
        let peft = try PEFTModel(
            model, configuration: LoHaConfiguration { $0.initializesWeights = false })
        let first = LlamaFixtures.logits(peft, parity)
        try peft.addAdapter(
            "second",
            configuration: LoHaConfiguration {
                $0.rank = 2
                $0.targets = .suffixes(["q_proj"])
            })
        let layer = try #require(model.model.layers[0].attention.queryProjection as? LoHaLinear)
        #expect(layer.adapterNames == ["default", "second"])
        try peft.setAdapter("second")
        // A fresh adapter is the identity.
        expectClose(LlamaFixtures.logits(peft, parity), base, tolerance: 1e-6)
        try peft.setAdapter("default")
        try peft.deleteAdapter("second")
        #expect(layer.adapterNames == ["default"])
        expectClose(LlamaFixtures.logits(peft, parity), first, tolerance: 0)
    }

    @Test("Bad values are refused by key")
    func refusals() throws {
        func key(of body: () throws -> Void) -> String? {
            do {
                try body()
            } catch let AdapterError.invalidConfiguration(key, _) {
                return key
            } catch {
                return "\(error)"
            }
            return nil
        }
        func decode(_ json: String) throws {
            _ = try JSONDecoder().decode(LoHaConfiguration.self, from: Data(json.utf8))
        }
        #expect(key { try decode(#"{"peft_type": "LOHA", "r": 0}"#) } == "r")
        #expect(
            key { try decode(#"{"peft_type": "LOHA", "rank_dropout": 1.0}"#) } == "rank_dropout")
        #expect(
            key { try decode(#"{"peft_type": "LOHA", "module_dropout": -0.1}"#) }
                == "module_dropout")
        #expect(
            key { try decode(#"{"peft_type": "LOHA", "rank_pattern": {"q_proj": 0}}"#) }
                == "rank_pattern.q_proj")
        #expect(
            key { try decode(#"{"peft_type": "LOHA", "alpha_pattern": {"(q_proj": 2}}"#) }
                == "alpha_pattern.(q_proj")
        #expect(
            key { try decode(#"{"peft_type": "LOHA", "layers_pattern": "layers"}"#) }
                == "layers_pattern")
        #expect(key { try decode(#"{"peft_type": "LOKR"}"#) } == "peft_type")
        #expect(
            key {
                _ = try PEFTModel(
                    try LlamaFixtures.load("llama-tiny"),
                    configuration: LoHaConfiguration { $0.targets = .suffixes(["embed_tokens"]) })
            } != nil)
        let defaults = try JSONDecoder().decode(
            LoHaConfiguration.self, from: Data(#"{"peft_type": "LOHA"}"#.utf8))
        #expect(defaults == LoHaConfiguration())
    }
}
