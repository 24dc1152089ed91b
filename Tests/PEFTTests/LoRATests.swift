import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// A tiny GPT-2 with random weights, the subject of most LoRA tests.
func tinyGPT2(seed: UInt64 = 1) -> GPT2LMHeadModel {
    let model = GPT2LMHeadModel(
        configuration: GPT2Configuration {
            $0.vocabularySize = 32
            $0.maximumPositions = 16
            $0.embeddingSize = 16
            $0.layerCount = 2
            $0.headCount = 2
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.attentionDropout = 0
            $0.initializerRange = 0.2
        }, seed: seed)
    model.eval()
    return model
}

let sampleTokens = [[1, 5, 9, 2, 7, 3], [4, 4, 8, 1, 0, 2]]

/// Puts random values in every adapter tensor, so a test cannot pass with an identity adapter.
func randomizeAdapters(_ peft: any PEFTModelProtocol, seed: UInt64) {
    var generator = RandomGenerator(seed: seed)
    for name in peft.adapterNames {
        for (_, parameter) in peft.tensors(of: peft.configurations[name]!, adapterName: name) {
            parameter.assign(
                Tensor.normal(parameter.shape, standardDeviation: 0.3, using: &generator))
        }
    }
}

func temporaryDirectory() throws -> URL {
    let folder = testScratchRoot.appendingPathComponent(
        "peft-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("LoRA")
struct LoRATests {
    @Test(
        "applyLoRA wraps the family's default targets, freezes the base and prints PEFT's summary")
    func applyDefaults() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 4)
        #expect(model.transformer.blocks.allSatisfy { $0.attention.queryKeyValue is LoRALinear })
        #expect(
            model.transformer.blocks.allSatisfy { !($0.attention.outputProjection is LoRALinear) })
        // 2 layers × (4·16 + 48·4) = 512 trainable.
        #expect(peft.trainableParameters.reduce(0) { $0 + $1.count } == 512)
        let total = model.parameterCount
        let percent = String(format: "%.4f", 100 * 512 / Double(total))
        #expect(
            peft.trainableParameterSummary
                == "trainable params: 512 || all params: \(Module.groupedForTest(total)) || trainable%: \(percent)"
        )
        let paths = model.namedParameters().map(\.path)
        #expect(paths.contains("transformer.h.0.attn.c_attn.base_layer.weight"))
        #expect(paths.contains("transformer.h.0.attn.c_attn.lora_A.default.weight"))
        // A fresh adapter (B = 0) leaves the outputs unchanged.
        let fresh = tinyGPT2()
        expectClose(model(sampleTokens), fresh(sampleTokens), tolerance: 1e-6)
    }

    @Test("Training LoRA lowers the loss while every base weight stays bit-identical")
    func trainingKeepsBase() throws {
        let model = tinyGPT2()
        let frozenBefore = model.namedParameters().map { ($0.path, $0.parameter.value.scalars) }
        let peft = try model.applyLoRA(rank: 4, alpha: 8, targets: .suffixes(["c_attn", "c_proj"]))
        model.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 1e-2, weightDecay: 0)
        let labels = sampleTokens
        var losses: [Float] = []
        for _ in 0..<30 {
            let loss = causalLanguageModelingLoss(logits: model(sampleTokens), labels: labels)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.8, "\(losses.first!) → \(losses.last!)")
        let after = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        for (path, values) in frozenBefore {
            let wrapped = path.replacingOccurrences(of: "c_attn.", with: "c_attn.base_layer.")
                .replacingOccurrences(of: "c_proj.", with: "c_proj.base_layer.")
            let parameter = after[path] ?? after[wrapped]
            #expect(parameter?.value.scalars == values, "\(path) changed")
        }
    }

    @Test("No frozen parameter ever holds a gradient or optimizer state")
    func frozenHaveNoGradientOrState() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2)
        model.train()
        let optimizer = AdamW(model.parameters, learningRate: 1e-3)
        causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens).backward()
        optimizer.step()
        let trainable = Set(peft.trainableParameters.map(ObjectIdentifier.init))
        #expect(trainable.count == 4)
        for (path, parameter) in model.namedParameters() {
            let trains = trainable.contains(ObjectIdentifier(parameter))
            #expect((parameter.gradient != nil) == trains, "\(path)")
            #expect(optimizer.hasState(for: parameter) == trains, "\(path)")
        }
        #expect(
            optimizer.stateElementCount == 2 * peft.trainableParameters.reduce(0) { $0 + $1.count })
    }

    @Test(
        "Merging keeps outputs, unmerging restores the weights, and mergeAndUnload leaves a plain model",
        arguments: [false, true])
    func merge(useDoRA: Bool) throws {
        let model = tinyGPT2()
        let original = (model.transformer.blocks[0].mlp as! GPT2MLP).project as! Conv1D
        let originalWeight = original.weight.scalars
        let peft = try model.applyLoRA(rank: 4, targets: .suffixes(["c_attn", "c_fc", "c_proj"])) {
            $0.useDoRA = useDoRA
        }
        randomizeAdapters(peft, seed: 3)
        let unmerged = model(sampleTokens)
        #expect(maxAbsoluteDifference(unmerged, tinyGPT2()(sampleTokens)) > 1e-2)
        try peft.merge()
        #expect(peft.isMerged)
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
        try peft.unmerge()
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
        expectClose(original.weight.scalars, originalWeight, tolerance: 1e-6)
        let plain = try peft.mergeAndUnload()
        #expect(plain === model)
        #expect(model.transformer.blocks[0].attention.queryKeyValue is Conv1D)
        #expect(!model.namedParameters().contains { $0.path.contains("lora") })
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
        // The merged model saves as a Hugging Face folder and loads back with the same outputs.
        let folder = try temporaryDirectory()
        try model.save(to: folder)
        let reloaded = try GPT2LMHeadModel(contentsOf: folder)
        reloaded.eval()
        expectClose(reloaded(sampleTokens), unmerged, tolerance: 1e-5)
    }

    @Test("An embedding adapter merges into the table of an untied model")
    func embeddingMerge() throws {
        var configuration = tinyGPT2().configuration
        configuration.tieWordEmbeddings = false
        let model = GPT2LMHeadModel(configuration: configuration, seed: 2)
        model.eval()
        let peft = try model.applyLoRA(rank: 3, targets: .suffixes(["wte"]))
        randomizeAdapters(peft, seed: 4)
        let unmerged = model(sampleTokens)
        #expect(
            maxAbsoluteDifference(unmerged, try peft.withAdaptersDisabled { model(sampleTokens) })
                > 1e-2)
        try peft.mergeAndUnload()
        #expect(model.transformer.tokenEmbedding is Embedding)
        expectClose(model(sampleTokens), unmerged, tolerance: 1e-5)
    }

    @Test("Safe merging refuses an adapter with non-finite values")
    func safeMerge() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2)
        let layer = model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        layer.adapterParameters(named: "default")[1].parameter.assign(Tensor.full([48, 2], .nan))
        #expect(throws: AdapterError.self) { try peft.merge(safe: true) }
    }

    @Test("Adapters switch, disable for a scope, and delete")
    func switching() throws {
        let model = tinyGPT2()
        let base = model(sampleTokens)
        let peft = try model.applyLoRA(rank: 2, adapterName: "first")
        try peft.addAdapter(
            "second",
            configuration: LoRAConfiguration {
                $0.rank = 3
                $0.targets = .suffixes(["c_attn", "c_fc"])
            })
        randomizeAdapters(peft, seed: 5)
        #expect(peft.activeAdapter == "first")
        let first = model(sampleTokens)
        try peft.setAdapter("second")
        let second = model(sampleTokens)
        #expect(maxAbsoluteDifference(first, second) > 1e-2)
        // Only the active adapter trains.
        let trainableCount = peft.trainableParameters.reduce(0) { $0 + $1.count }
        #expect(trainableCount == 2 * (3 * 16 + 48 * 3) + 2 * (3 * 16 + 64 * 3))
        let disabled = try peft.withAdaptersDisabled { model(sampleTokens) }
        expectClose(disabled, base, tolerance: 1e-6)
        expectClose(model(sampleTokens), second, tolerance: 0)
        try peft.setAdapter("first")
        expectClose(model(sampleTokens), first, tolerance: 0)
        try peft.deleteAdapter("second")
        #expect(peft.adapterNames == ["first"])
        #expect(!model.namedParameters().contains { $0.path.contains(".second") })
        #expect(throws: AdapterError.unknownAdapter("second", known: ["first"])) {
            try peft.setAdapter("second")
        }
    }

    @Test(
        "An adapter saved here loads back into a fresh model with the same outputs, under any name")
    func saveLoadRoundTrip() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(
            rank: 4, alpha: 16, targets: .suffixes(["c_attn", "c_proj"])
        ) {
            $0.useRSLoRA = true
            $0.bias = .loraOnly
            $0.modulesToSave = ["ln_f"]
        }
        randomizeAdapters(peft, seed: 7)
        let expected = model(sampleTokens)
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["adapter_config.json", "adapter_model.safetensors"])
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(
            file.tensorNames.contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"))
        #expect(
            file.tensorNames.contains(
                "base_model.model.transformer.h.0.attn.c_attn.base_layer.bias"))
        #expect(file.tensorNames.contains("base_model.model.transformer.ln_f.weight"))
        let configuration = try AdapterFolder.readConfiguration(from: folder) as! LoRAConfiguration
        #expect(
            configuration.fanInFanOut && configuration.useRSLoRA && configuration.bias == .loraOnly)

        let fresh = tinyGPT2()
        let loaded = try PEFTModel.load(fresh, from: folder, adapterName: "other")
        #expect(loaded.activeAdapter == "other")
        expectClose(fresh(sampleTokens), expected, tolerance: 1e-6)
    }

    @Test("Targets that match nothing name the candidates and the closest ones")
    func noTargetMatched() throws {
        let model = tinyGPT2()
        #expect {
            try model.applyLoRA(targets: .suffixes(["q_proj", "c_atn"]))
        } throws: { error in
            guard case AdapterError.noTargetMatched(_, let candidates, let closest) = error else {
                return false
            }
            return candidates.contains("c_attn") && candidates.contains("c_fc")
                && closest.contains("c_attn")
        }
        #expect(
            throws: AdapterError.unsupportedTarget(
                path: "transformer.h.0.attn", type: "GPT2Attention")
        ) {
            try tinyGPT2().applyLoRA(targets: .suffixes(["attn"]))
        }
    }

    @Test("Loading an adapter whose shapes do not fit names the module")
    func shapeMismatch() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 4)
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let wider = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 32
                $0.maximumPositions = 16
                $0.embeddingSize = 8
                $0.layerCount = 2
                $0.headCount = 2
            })
        #expect(
            throws: AdapterError.shapeMismatch(
                key: "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                expected: [4, 8], found: [4, 16])
        ) {
            try PEFTModel.load(wider, from: folder)
        }
    }

    @Test("Layer selection, rank and alpha patterns pick the modules and sizes PEFT picks")
    func patterns() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 4, targets: .suffixes(["c_attn", "c_fc"])) {
            $0.layersToTransform = [1]
            $0.rankPattern = ["c_fc": 2]
            $0.alphaPattern = ["c_attn": 32]
        }
        #expect(!(model.transformer.blocks[0].attention.queryKeyValue is LoRALinear))
        let attention = model.transformer.blocks[1].attention.queryKeyValue as! LoRALinear
        let feedForward = (model.transformer.blocks[1].mlp as! GPT2MLP).expand as! LoRALinear
        #expect(
            attention.adapters["default"]!.rank == 4 && attention.adapters["default"]!.scaling == 8)
        // applyLoRA's alpha is twice the rank it was given (8): over c_fc's rank 2, a scaling of 4.
        #expect(
            feedForward.adapters["default"]!.rank == 2
                && feedForward.adapters["default"]!.scaling == 4)
        #expect(peft.adapterLayers().count == 2)
        let regex = try tinyGPT2().applyLoRA(targets: .pattern(#".*\.h\.0\.mlp\.c_(fc|proj)"#))
        #expect(
            regex.adapterLayers().map(\.path) == [
                "transformer.h.0.mlp.c_fc", "transformer.h.0.mlp.c_proj",
            ])
    }

    @Test(
        "PiSSA and OLoRA start from the weight's own directions and leave the outputs unchanged",
        arguments: [LoRAInitialization.pissa, .olora])
    func weightBasedInitialization(initialization: LoRAInitialization) throws {
        let model = tinyGPT2()
        let before = model(sampleTokens)
        let peft = try model.applyLoRA(rank: 4, alpha: 8) { $0.initialization = initialization }
        expectClose(model(sampleTokens), before, tolerance: 1e-4)
        let layer = model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        let factors = layer.adapters["default"]!
        #expect(factors.up.value.scalars.contains { $0 != 0 })
        if initialization == .pissa {
            // The residual no longer holds the top singular directions: its largest singular value drops.
            let residual = try layer.baseWeightOutputsByInputs().singularValueDecomposition()
                .singularValues.scalars
            let full = try withoutGradients { layer.baseWeightOutputsByInputs() + factors.delta() }
                .singularValueDecomposition().singularValues.scalars
            #expect(residual[0] < full[0] * 0.999)
        }
        _ = peft
    }

    @Test("Gaussian initialisation draws A with standard deviation 1/r and B zero")
    func gaussian() throws {
        let model = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 8
                $0.maximumPositions = 4
                $0.embeddingSize = 256
                $0.layerCount = 1
                $0.headCount = 4
            })
        _ = try model.applyLoRA(rank: 4) { $0.initialization = .gaussian }
        let factors = (model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear).adapters[
            "default"]!
        let values = factors.down.value.scalars
        let mean = values.reduce(0, +) / Float(values.count)
        let deviation =
            (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count))
            .squareRoot()
        #expect(abs(deviation - 0.25) < 0.02)
        #expect(factors.up.value.scalars.allSatisfy { $0 == 0 })
        let standard = GPT2LMHeadModel(configuration: model.configuration)
        _ = try standard.applyLoRA(rank: 4)
        let uniform = (standard.transformer.blocks[0].attention.queryKeyValue as! LoRALinear)
            .adapters["default"]!
        #expect(uniform.down.value.scalars.allSatisfy { abs($0) <= 1 / 16 })
    }

    @Test("Weighted combinations: cat and full-rank svd are exact, linear follows PEFT's formula")
    func weightedAdapters() throws {
        let model = tinyGPT2()
        let peft = try model.applyLoRA(rank: 2, alpha: 4, adapterName: "a")
        try peft.addAdapter(
            "b",
            configuration: LoRAConfiguration {
                $0.rank = 2
                $0.alpha = 2
                $0.targets = .suffixes(["c_attn"])
            })
        randomizeAdapters(peft, seed: 11)
        let layer = model.transformer.blocks[0].attention.queryKeyValue as! LoRALinear
        let (a, b) = (layer.adapters["a"]!, layer.adapters["b"]!)
        let exact = withoutGradients { a.delta() * 0.7 + b.delta() * 0.4 }
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "cat", combination: .cat)
        expectClose(layer.adapters["cat"]!.delta(), exact, tolerance: 1e-5)
        #expect(layer.adapters["cat"]!.rank == 4 && layer.adapters["cat"]!.scaling == 1)
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, 0.4], name: "svd", combination: .svd, svdRank: 4)
        expectClose(layer.adapters["svd"]!.delta(), exact, tolerance: 1e-4)
        try peft.addWeightedAdapter(
            ["a", "b"], weights: [0.7, -0.4], name: "linear", combination: .linear)
        let (sa, sb) = ((0.7 * a.scaling).squareRoot(), (0.4 * b.scaling).squareRoot())
        let expectedDown = withoutGradients { a.down.value * sa - b.down.value * sb }
        expectClose(layer.adapters["linear"]!.down.value, expectedDown, tolerance: 1e-6)
        try peft.setAdapter("cat")
        let combined = model(sampleTokens)
        #expect(combined.scalars.allSatisfy { $0.isFinite })
    }
}

extension Module {
    static func groupedForTest(_ number: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: number))!
    }
}
