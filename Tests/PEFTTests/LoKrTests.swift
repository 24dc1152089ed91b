import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// LoKr factors for a `[outputs, inputs]` layer.
private func lokrFactors(
    inputs: Int, outputs: Int, rank: Int, configure: (inout LoKrConfiguration) -> Void = { _ in }
) -> LoKrFactors {
    LoKrFactors(
        target: LyCORISTarget(
            path: "layer", inputs: inputs, outputs: outputs, rank: rank, alpha: Float(rank)),
        configuration: LoKrConfiguration(configure), seed: 3)
}

@Suite("LoKr")
struct LoKrTests {
    @Test(
        "A PEFT-written LoKr adapter gives PEFT's logits (patterns, decompose_factor, decompose_both)",
        arguments: ["lokr-llama-patterns", "lokr-t5-v1_0-factor", "lokr-llama-decompose-both"])
    func parity(name: String) throws {
        let (peft, _) = try expectAdapterParity(name)
        let configuration = try #require(peft.configurations["default"] as? LoKrConfiguration)
        let (written, python) = try configurationKeys(configuration, fixture: name)
        #expect(written == python)
        let file = try SafeTensorsFile(
            contentsOf: ParityFixture.folder(name).appendingPathComponent(AdapterFolder.weightsFile)
        )
        let keys = Set(
            LoKr.adapterTensors(
                in: peft.baseModule, adapterName: "default", configuration: configuration
            ).map(\.key))
        #expect(keys == Set(file.tensorNames))
    }

    @Test("factorization(dimension, factor) splits widths exactly as PEFT's")
    func factorization() {
        let cases: [(Int, Int, Int, Int)] = [
            (256, -1, 16, 16), (128, -1, 8, 16), (127, -1, 1, 127), (24, -1, 4, 6),
            (768, -1, 24, 32), (4096, -1, 64, 64), (11008, -1, 86, 128), (128, 4, 4, 32),
            (100, 3, 2, 50), (128, 64, 64, 2), (16, 2, 2, 8), (16, 0, 1, 16), (8, -1, 2, 4),
        ]
        for (dimension, factor, small, large) in cases {
            let result = LoKrFactors.factorization(dimension, factor: factor)
            #expect(result == (small, large), "factorization(\(dimension), \(factor))")
        }
    }

    @Test("Factors are stored whole or as rank-r products by PEFT's thresholds")
    func shapes() {
        // in = 16 → (4, 4), out = 24 → (4, 6): w1 [4, 4], w2 [6, 4].
        let full = lokrFactors(inputs: 16, outputs: 24, rank: 4)
        #expect(full.tensors.map(\.key) == ["lokr_w1", "lokr_w2"])
        #expect(full.tensors.map(\.parameter.shape) == [[4, 4], [6, 4]])
        let decomposed = lokrFactors(inputs: 16, outputs: 24, rank: 2)
        #expect(decomposed.tensors.map(\.key) == ["lokr_w1", "lokr_w2_a", "lokr_w2_b"])
        #expect(decomposed.tensors.map(\.parameter.shape) == [[4, 4], [6, 2], [2, 4]])
        let both = lokrFactors(inputs: 16, outputs: 24, rank: 1) { $0.decomposesBoth = true }
        #expect(both.tensors.map(\.key) == ["lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b"])
        // r = 2 is not below max(4, 4) / 2, so w1 stays whole even with decompose_both.
        let wholeLeft = lokrFactors(inputs: 16, outputs: 24, rank: 2) { $0.decomposesBoth = true }
        #expect(wholeLeft.tensors.map(\.key) == ["lokr_w1", "lokr_w2_a", "lokr_w2_b"])
        expectClose(
            full.delta(),
            kroneckerProduct(full.tensors[0].parameter.value, full.tensors[1].parameter.value),
            tolerance: 0)
    }

    @Test("init_weights: true zeroes w1, \"lycoris\" zeroes w2, false draws everything")
    func initialization() throws {
        for (initialization, zeroKeys) in [
            (LoKrInitialization.standard, ["lokr_w1"]), (.lycoris, ["lokr_w2_b"]), (.random, []),
        ] {
            let factors = lokrFactors(inputs: 16, outputs: 24, rank: 2) {
                $0.initialization = initialization
            }
            for (key, parameter) in factors.tensors {
                let isZero = parameter.value.scalars.allSatisfy { $0 == 0 }
                #expect(isZero == zeroKeys.contains(key), "\(initialization) \(key)")
            }
        }
        let json = #"{"peft_type": "LOKR", "init_weights": "lycoris"}"#
        let decoded = try JSONDecoder().decode(LoKrConfiguration.self, from: Data(json.utf8))
        #expect(decoded.initialization == .lycoris)
        let object =
            try JSONSerialization.jsonObject(
                with: try AdapterConfigurationFile.encode(decoded)) as? [String: Any]
        #expect(object?["init_weights"] as? String == "lycoris")

        let model = try LlamaFixtures.load("llama-tiny")
        let parity = try ParityFixture("llama-tiny").cases[0]
        let before = LlamaFixtures.logits(model, parity)
        let peft = try PEFTModel(model, configuration: LoKrConfiguration { $0.rank = 2 })
        #expect(lycorisLayers(model, LoKrFactors.self).count == 4)
        expectClose(LlamaFixtures.logits(peft, parity), before, tolerance: 0)
    }

    @Test("Rank dropout keeps the kept rows as they are unless rank_dropout_scale")
    func rankDropout() throws {
        var generator = RandomGenerator(seed: 8)
        let base = Linear(inputFeatures: 8, outputFeatures: 12, using: &generator)
        let x = Tensor.normal([2, 8], using: &generator)
        let plain = base(x).scalars
        for scales in [false, true] {
            let layer = LoKrLinear(wrapping: base)
            let factors = lokrFactors(inputs: 8, outputs: 12, rank: 2) {
                $0.initialization = .random
                $0.rankDropout = 0.4
                $0.scalesRankDropout = scales
            }
            try layer.adapters.add("default", factors)
            layer.activeAdapters = ["default"]
            let update = withoutGradients { linear(x, weight: factors.delta()) }.scalars
            layer.train()
            let y = layer(x).scalars
            let kept = (0..<12).map { abs(y[$0] - plain[$0]) > 1e-7 }
            let factor = scales ? Float(12) / Float(kept.filter { $0 }.count) : 1
            #expect(kept.contains(true) && kept.contains(false))
            for index in y.indices {
                let expected = plain[index] + (kept[index % 12] ? factor * update[index] : 0)
                #expect(abs(y[index] - expected) < 1e-5)
            }
        }
    }

    @Test(
        "Training moves only the factors: loss falls, the base stays bit-identical (Linear and Conv1D)",
        arguments: ["llama-tiny", "gpt2-tiny"])
    func training(baseModel: String) throws {
        try expectLyCORISTraining(
            LoKrConfiguration {
                $0.rank = 2
                $0.alpha = 4
                $0.targets =
                    baseModel == "llama-tiny" ? .allLinear : .suffixes(["c_attn", "c_proj"])
            }, on: baseModel, marker: ".lokr_w", learningRate: 3e-2)
    }

    @Test(
        "Merging keeps the outputs and unmerging restores the weights, on Linear and Conv1D bases",
        arguments: ["llama-tiny", "gpt2-tiny", "t5-v1_0-tiny"])
    func merge(baseModel: String) throws {
        let subject = try MergeSubject(baseModel)
        let peft = try subject.apply(
            LoKrConfiguration {
                $0.rank = 1
                $0.alpha = 2
                $0.decomposesBoth = true
                $0.targets = .allLinear
                $0.initialization = .random
            })
        try subject.expectMergeRoundTrip(peft, wrapper: LoKrLinear.self)
    }

    @Test(
        "Adapters saved here reload with the same logits (Llama, T5 with decompose_factor, GPT-2)")
    func roundTrip() throws {
        let llamaParity = try ParityFixture("llama-tiny").cases[1]
        var configuration = LoKrConfiguration {
            $0.rank = 2
            $0.alpha = 3
            $0.targets = .allLinear
            $0.excludedModules = .suffixes(["o_proj"])
            $0.rankPattern = [#"layers\.0\.mlp\..*"#: 1]
            $0.alphaPattern = ["v_proj": 5]
            $0.decomposesBoth = true
            $0.initialization = .lycoris
            $0.rankDropout = 0.2
            $0.scalesRankDropout = true
        }
        configuration.taskType = "CAUSAL_LM"
        configuration.baseModelNameOrPath = "llama-tiny"
        let llama = try PEFTModel(
            try LlamaFixtures.load("llama-tiny"), configuration: configuration)
        perturbTrainable(llama, seed: 21, standardDeviation: 0.5)
        try expectSaveReload(
            llama, baseModel: "llama-tiny", parity: llamaParity, name: "swift-lokr-llama",
            logits: { LlamaFixtures.logits($0 as! PEFTModel<LlamaForCausalLM>, llamaParity) },
            reloadedLogits: {
                let reloaded = try PEFTModel.load(try LlamaFixtures.load("llama-tiny"), from: $0)
                return LlamaFixtures.logits(reloaded, llamaParity)
            })

        for (baseModel, targets) in [
            ("t5-v1_1-tiny", ["q", "k", "wo"]), ("gpt2-tiny", ["c_attn"]),
        ] {
            try expectFixtureModelSaveReload(
                LoKrConfiguration {
                    $0.rank = 2
                    $0.alpha = 4
                    $0.decompositionFactor = 4
                    $0.targets = .suffixes(targets)
                }, baseModel: baseModel, seed: 22, t5ExportName: "swift-lokr-t5")
        }
    }

    @Test("A GPT-2 Conv1D adapter merges into the [in, out] weights transformers loads")
    func mergedConv1D() throws {
        try expectMergedGPT2Export(
            LoKrConfiguration {
                $0.rank = 2
                $0.alpha = 1
                $0.decomposesBoth = true
                $0.targets = .suffixes(["c_attn", "c_fc", "c_proj"])
            }, name: "swift-lokr-gpt2-merged")
    }

    @Test("Bad values are refused by key")
    func refusals() throws {
        func key(_ json: String) -> String? {
            do {
                _ = try JSONDecoder().decode(LoKrConfiguration.self, from: Data(json.utf8))
            } catch let AdapterError.invalidConfiguration(key, _) {
                return key
            } catch {
                return "\(error)"
            }
            return nil
        }
        #expect(key(#"{"peft_type": "LOKR", "init_weights": "gaussian"}"#) == "init_weights")
        #expect(key(#"{"peft_type": "LOKR", "r": -2}"#) == "r")
        #expect(
            key(#"{"peft_type": "LOKR", "rank_pattern": {"v_proj": -1}}"#) == "rank_pattern.v_proj")
        #expect(key(#"{"peft_type": "LOHA"}"#) == "peft_type")
        #expect(
            key(#"{"peft_type": "LOKR", "decompose_factor": 4, "rank_dropout_scale": true}"#) == nil
        )
    }
}
