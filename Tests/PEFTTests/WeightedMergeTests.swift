import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Replays the DARE masks PEFT drew, as `make_merge_fixtures.py` recorded them for one merge.
final class RecordedPruningMasks: PruningMaskSource {
    let file: SafeTensorsFile
    let merge: String
    private(set) var served = 0

    init(_ file: SafeTensorsFile, merge: String) {
        self.file = file
        self.merge = merge
    }

    func mask(for request: PruningMaskRequest) throws -> Tensor {
        let key = "\(merge)/mask/\(request.layer)/\(request.adapter)/\(request.target.rawValue)"
        guard let info = file.info(key) else {
            throw AdapterError.missingKeys(file: "merges.safetensors", keys: [key])
        }
        served += 1
        return Tensor(shape: info.shape, scalars: try file.floats(key))
    }
}

/// One `merge-*` fixture folder: adapters `a` and `b`, the merges PEFT made of them, and its results.
struct MergeFixture {
    let name: String
    let parity: ParityFixture
    let results: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        parity = try ParityFixture(name)
        results = try SafeTensorsFile(
            contentsOf: ParityFixture.folder(name).appendingPathComponent("merges.safetensors"))
    }

    var merges: [[String: Any]] { parity.object["merges"] as! [[String: Any]] }

    /// Writes the merged adapter and its logits to `$PEFT_EXPORT_DIR/swift-<fixture>-<merge>`, for
    /// `Scripts/fixtures/check_swift_adapters.py`; does nothing when the variable is unset.
    func export<Base: Module>(_ peft: PEFTModel<Base>, merge: String, logits: Tensor) throws {
        guard let root = ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"] else { return }
        let staging = testScratchRoot.appendingPathComponent(
            "merge-export-\(UUID().uuidString)")
        try peft.save(to: staging, adapters: [merge])
        let folder = URL(fileURLWithPath: root).appendingPathComponent("swift-\(name)-\(merge)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(
            at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: staging.appendingPathComponent(merge), to: folder)
        let inputs = parity.cases[0]
        let record: [String: Any] = [
            "base_model": parity.object["base_model"] as! String, "input_ids": inputs.inputIDs,
            "attention_mask": inputs.attentionMask, "logits_shape": logits.shape,
            "logits": logits.scalars.map { Double($0) },
        ]
        try JSONSerialization.data(withJSONObject: record).write(
            to: folder.appendingPathComponent("swift_logits.json"))
    }

    func tensor(_ key: String) throws -> Tensor {
        let info = try #require(results.info(key), "\(name): no \(key)")
        return Tensor(shape: info.shape, scalars: try results.floats(key))
    }

    /// Loads `a` and `b` onto `base`, makes every merge PEFT made with its recorded masks, and expects
    /// PEFT's factors (non-SVD types), updates `B·A` (SVD types) and logits; returns the worst
    /// differences per merge (logits, then factors or updates).
    func check<Base: Module>(_ base: Base, logits: () -> Tensor) throws -> [String: (Float, Float)]
    {
        let folder = ParityFixture.folder(name)
        let peft = try PEFTModel.load(
            base, from: folder.appendingPathComponent("a"), adapterName: "a")
        try peft.loadAdapter(from: folder.appendingPathComponent("b"), as: "b")
        var worst: [String: (Float, Float)] = [:]
        for merge in merges {
            let mergeName = merge["name"] as! String
            let combination = try #require(
                LoRACombination(rawValue: merge["combination_type"] as! String))
            let masks = RecordedPruningMasks(results, merge: mergeName)
            try peft.addWeightedAdapter(
                ["a", "b"], weights: (merge["weights"] as! [NSNumber]).map(\.floatValue),
                name: mergeName, combination: combination, svdRank: merge["svd_rank"] as? Int,
                svdClamp: (merge["svd_clamp"] as? NSNumber)?.doubleValue,
                density: (merge["density"] as? NSNumber)?.doubleValue,
                majoritySignMethod: try #require(
                    MajoritySignMethod(rawValue: merge["majority_sign_method"] as! String)),
                masks: masks)
            #expect(masks.served == merge["masks"] as! Int, "\(name) \(mergeName)")
            var worstTensor: Float = 0
            func compare(_ actual: Tensor, _ key: String, tolerance: Float) throws {
                let expected = try tensor(key)
                expectClose(actual, expected, tolerance: tolerance)
                worstTensor = max(worstTensor, maxAbsoluteDifference(actual, expected))
            }
            for (path, layer) in peft.adapterLayers() {
                let factors = try #require(
                    (layer as? LoRALinear)?.adapters[mergeName]
                        ?? (layer as? LoRAEmbedding)?.adapters[mergeName])
                #expect(factors.scaling == 1)
                if combination.usesSVD {
                    try compare(factors.delta(), "\(mergeName)/\(path).delta", tolerance: 1e-4)
                } else {
                    try compare(factors.down.value, "\(mergeName)/\(path).lora_A", tolerance: 1e-5)
                    try compare(factors.up.value, "\(mergeName)/\(path).lora_B", tolerance: 1e-5)
                }
            }
            try peft.setAdapter(mergeName)
            let expected = try tensor("\(mergeName)/logits")
            let difference = maxAbsoluteDifference(logits(), expected)
            #expect(difference <= 1e-4, "\(name) \(mergeName): max |Δ| \(difference)")
            worst[mergeName] = (difference, worstTensor)
            try export(peft, merge: mergeName, logits: logits())
        }
        return worst
    }
}

@Suite("Weighted adapter combinations (add_weighted_adapter)")
struct WeightedMergeTests {
    @Test(
        "Every combination type gives PEFT's factors, updates and logits on GPT-2",
        arguments: ["merge-gpt2", "merge-gpt2-svd"])
    func gpt2Parity(name: String) throws {
        let fixture = try MergeFixture(name)
        let loaded = try FixtureModels.load("gpt2-tiny")
        loaded.model.eval()
        let worst = try fixture.check(loaded.model) {
            FixtureModels.logits(loaded, fixture.parity.cases[0])
        }
        #expect(worst.count == fixture.merges.count)
        print(
            "\(name): max |Δ| (logits, factors or B·A):",
            worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })
    }

    @Test(
        "Every combination type gives PEFT's factors, updates and logits on Llama",
        arguments: ["merge-llama", "merge-llama-svd"])
    func llamaParity(name: String) throws {
        let fixture = try MergeFixture(name)
        let model = try LlamaFixtures.load("llama-tiny")
        let worst = try fixture.check(model) {
            LlamaFixtures.logits(model, fixture.parity.cases[0])
        }
        #expect(worst.count == fixture.merges.count)
        print(
            "\(name): max |Δ| (logits, factors or B·A):",
            worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })
    }

    @Test("Magnitude pruning keeps int(density·n) entries, the largest by magnitude")
    func magnitudePruning() {
        let values: [Float] = [0.5, -3, 0.1, 2, -0.2, 1]
        #expect(TaskTensorMerge.magnitudePruned(values, density: 0.5) == [0, -3, 0, 2, 0, 1])
        #expect(TaskTensorMerge.magnitudePruned(values, density: 0.34) == [0, -3, 0, 2, 0, 0])
        #expect(TaskTensorMerge.magnitudePruned(values, density: 0) == [0, 0, 0, 0, 0, 0])
    }

    @Test("TIES elects the sign by total or by frequency and averages only the agreeing entries")
    func tiesElection() {
        let tasks: [[Float]] = [[1, -4, 0, 2], [-3, 1, 5, 0], [1, 1, 0, -1]]
        let weights: [Float] = [1, 2, 0.5]
        // total: sums -1, -2, 5, 1 → signs -, -, +, +.
        #expect(
            TaskTensorMerge.disjointMerge(tasks, weights: weights, signMethod: .total)
                == [-6, -4, 10, 2])
        // frequency: sign sums 1, 1, 1, 0 → +, +, +, + (a zero sum elects +).
        #expect(
            TaskTensorMerge.disjointMerge(tasks, weights: weights, signMethod: .frequency)
                == [0.75, 1.25, 10, 2])
    }

    @Test("svd_clamp's bound is torch.quantile's linear interpolation")
    func quantile() {
        #expect(WeightedMerge.quantile([4, 1, 3, 2], 0.5) == 2.5)
        #expect(WeightedMerge.quantile([4, 1, 3, 2], 1) == 4)
        #expect(WeightedMerge.quantile([4, 1, 3, 2], 0) == 1)
        #expect(WeightedMerge.quantile([0, 10], 0.9) == 9)
    }

    @Test("svd_clamp clamps both SVD factors to ± the quantile of their entries")
    func svdClamp() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2, adapterName: "a")
        try peft.addAdapter("b", configuration: LoRAConfiguration { $0.rank = 2 })
        randomizeAdapters(peft, seed: 8)
        try peft.addWeightedAdapter(["a", "b"], weights: [1, 0.5], name: "plain")
        try peft.addWeightedAdapter(["a", "b"], weights: [1, 0.5], name: "clamped", svdClamp: 0.8)
        #expect(throws: AdapterError.self) {
            try peft.addWeightedAdapter(["a", "b"], weights: [1, 0.5], name: "bad", svdClamp: 2)
        }
        let layer = model.transformer.blocks[1].attention.queryKeyValue as! LoRALinear
        let (plain, clamped) = (layer.adapters["plain"]!, layer.adapters["clamped"]!)
        let bound = WeightedMerge.quantile(plain.up.value.scalars + plain.down.value.scalars, 0.8)
        #expect(bound > 0)
        for (original, result) in [(plain.down, clamped.down), (plain.up, clamped.up)] {
            #expect(
                result.value.scalars == original.value.scalars.map { min(max($0, -bound), bound) })
        }
        #expect(plain.down.value.scalars.contains { abs($0) > bound })
    }

    @Test("The seeded DARE masks keep about density of the entries and repeat with the seed")
    func seededMasks() {
        let request = PruningMaskRequest(
            layer: "l", adapter: "a", target: .down, shape: [100, 100], density: 0.3)
        let first = SeededPruningMasks(seed: 7).mask(for: request).scalars
        #expect(first.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(abs(first.reduce(0, +) / 10_000 - 0.3) < 0.02)
        #expect(SeededPruningMasks(seed: 7).mask(for: request).scalars == first)
        #expect(SeededPruningMasks(seed: 8).mask(for: request).scalars != first)
    }

    @Test("Pruning types need a density, factor types equal ranks; a failed call adds nothing")
    func invalidArguments() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2, adapterName: "a")
        try peft.addAdapter(
            "b", configuration: LoRAConfiguration { $0.rank = 3 })
        #expect(
            throws: AdapterError.invalidConfiguration(
                key: "density", reason: "ties_svd needs a density of at least 0, got none")
        ) {
            try peft.addWeightedAdapter(
                ["a", "b"], weights: [1, 1], name: "m", combination: .tiesSVD)
        }
        #expect(throws: AdapterError.self) {
            try peft.addWeightedAdapter(
                ["a", "b"], weights: [1, 1], name: "m", combination: .dareTies, density: 0.5)
        }
        #expect(throws: AdapterError.self) {
            try peft.addWeightedAdapter(
                ["a", "b"], weights: [1, 1], name: "m", combination: .dareLinearSVD, density: -1)
        }
        #expect(peft.adapterNames == ["a", "b"])
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [1, 1], name: "m", combination: .dareTiesSVD, density: 0.5)
        let layer = model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        #expect(layer.adapters["m"]?.rank == 3)
    }

    @Test("Density 1 prunes nothing: ties and dare_linear then equal their unpruned formulas")
    func fullDensity() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2, alpha: 4, adapterName: "a")
        try peft.addAdapter("b", configuration: LoRAConfiguration { $0.rank = 2 })
        randomizeAdapters(peft, seed: 5)
        let layer = model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "linear", combination: .linear)
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "dare", combination: .dareLinear, density: 1)
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "svd", combination: .svd)
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "prune", combination: .magnitudePruneSVD,
            density: 1)
        let (linear, dare) = (layer.adapters["linear"]!, layer.adapters["dare"]!)
        expectClose(dare.down.value, linear.down.value, tolerance: 0)
        expectClose(dare.up.value, linear.up.value, tolerance: 0)
        expectClose(
            layer.adapters["prune"]!.delta(), layer.adapters["svd"]!.delta(), tolerance: 1e-6)
    }
}

@Suite("Weighted combinations of adapters with different targets")
struct WeightedMergeTargetTests {
    @Test("The combination targets the union; a layer only one adapter has gets that one alone")
    func unionOfTargets() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2, alpha: 4, adapterName: "a")
        try peft.addAdapter(
            "b",
            configuration: LoRAConfiguration {
                $0.rank = 2
                $0.targets = .suffixes(["c_attn", "c_fc"])
            })
        randomizeAdapters(peft, seed: 12)
        for combination in [LoRACombination.cat, .svd, .linear, .ties] {
            let name = combination.rawValue
            try peft.addWeightedAdapter(
                ["a", "b"], weights: [0.7, 0.4], name: name, combination: combination,
                density: 1)
            let configuration = try #require(peft.configurations[name] as? LoRAConfiguration)
            #expect(configuration.targets == .suffixes(["c_attn", "c_fc"]))
            let fc = try #require(
                peft.adapterLayers().first { $0.path == "transformer.h.0.mlp.c_fc" }?.layer
                    as? LoRALinear)
            let (merged, b) = (try #require(fc.adapters[name]), fc.adapters["b"]!)
            #expect(merged.rank == (combination == .cat ? 4 : 2))
            let expected = withoutGradients { b.delta() * 0.4 }
            switch combination {
            case .linear, .ties:
                let root = (0.4 * b.scaling).squareRoot()
                expectClose(
                    merged.down.value, withoutGradients { b.down.value * root }, tolerance: 1e-6)
            default: expectClose(merged.delta(), expected, tolerance: 1e-5)
            }
        }
    }

    @Test(
        "Pattern targets join as (a)|(b); targets of different kinds refuse before anything changes"
    )
    func patternTargets() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(
            rank: 2, targets: .pattern(#".*\.0\.attn\.c_attn"#), adapterName: "a")
        try peft.addAdapter(
            "b",
            configuration: LoRAConfiguration {
                $0.rank = 2
                $0.targets = .pattern(#".*\.1\.mlp\.c_fc"#)
            })
        try peft.addWeightedAdapter(["a", "b"], weights: [1, 1], name: "ab", combination: .cat)
        let configuration = try #require(peft.configurations["ab"] as? LoRAConfiguration)
        #expect(configuration.targets == .pattern(#"(.*\.0\.attn\.c_attn)|(.*\.1\.mlp\.c_fc)"#))
        #expect(
            peft.adapterLayers().filter { $0.layer.adapterNames.contains("ab") }.map(\.path) == [
                "transformer.h.0.attn.c_attn", "transformer.h.1.mlp.c_fc",
            ])
        try peft.addAdapter(
            "c",
            configuration: LoRAConfiguration {
                $0.rank = 2
                $0.targets = .suffixes(["c_attn"])
            })
        #expect(throws: AdapterError.self) {
            try peft.addWeightedAdapter(
                ["a", "c"], weights: [1, 1], name: "ac", combination: .cat)
        }
        #expect(peft.configurations["ac"] == nil)
    }
}
