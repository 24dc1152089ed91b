import Foundation
import PEFTSafeTensors
import PEFTTestSupport
import Testing

@testable import PEFT

/// The Python-written fixture `name` loaded onto its base model.
private func loadFixture(_ name: String) throws -> (
    peft: any PEFTModelProtocol, logits: (ParityCase) -> Tensor, parity: ParityFixture
) {
    let parity = try ParityFixture(name)
    let base = parity.object["base_model"] as! String
    if base.hasPrefix("llama") {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(base))
        model.eval()
        let peft = try PEFTModel.load(model, from: ParityFixture.folder(name))
        return (
            peft,
            { peft.logits(DecoderInputs(tokenIDs: $0.inputIDs, attentionMask: $0.attentionMask)) },
            parity
        )
    }
    let model = try GPT2LMHeadModel(contentsOf: ParityFixture.folder(base))
    model.eval()
    let peft = try PEFTModel.load(model, from: ParityFixture.folder(name))
    return (
        peft,
        { peft.logits(DecoderInputs(tokenIDs: $0.inputIDs, attentionMask: $0.attentionMask)) },
        parity
    )
}

private let fixtureNames = [
    "trainable-tokens-gpt2", "trainable-tokens-llama", "lora-gpt2-trainable-tokens",
    "lora-llama-trainable-tokens",
]

@Suite("Trainable tokens")
struct TrainableTokensTests {
    @Test("Python-written adapters load and give peft's logits", arguments: fixtureNames)
    func parity(name: String) throws {
        let (_, logits, parity) = try loadFixture(name)
        for parityCase in parity.cases {
            let difference = maxDifferenceOverValidPositions(logits(parityCase).scalars, parityCase)
            #expect(difference <= 1e-4, "\(name) \(parityCase.name): max |Δ| \(difference)")
        }
    }

    @Test(
        "Saving writes peft's keys and shapes, and the saved folder reloads to the same logits",
        arguments: fixtureNames)
    func roundTrip(name: String) throws {
        let (peft, logits, parity) = try loadFixture(name)
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        let expected = parity.object["adapter_tensors"] as! [String: [Int]]
        #expect(Set(file.tensorNames) == Set(expected.keys))
        for (key, shape) in expected { #expect(file.info(key)?.shape == shape, "\(key)") }
        let configuration = try AdapterFolder.readConfiguration(from: folder)
        let original = try AdapterFolder.readConfiguration(from: ParityFixture.folder(name))
        #expect(
            (configuration as? TrainableTokensConfiguration)
                == (original as? TrainableTokensConfiguration))
        #expect(
            (configuration as? LoRAConfiguration)?.trainableTokenIndices
                == (original as? LoRAConfiguration)?.trainableTokenIndices)
        let copy = try temporaryDirectory()
        for file in [AdapterFolder.weightsFile, AdapterFolder.configurationFile] {
            try FileManager.default.copyItem(
                at: folder.appendingPathComponent(file), to: copy.appendingPathComponent(file))
        }
        try FileManager.default.removeItem(at: folder)
        let before = logits(parity.cases[0])
        try peft.deleteAdapter("default")
        try peft.loadAdapter(from: copy, as: "default")
        try peft.setAdapter("default")
        #expect(maxAbsoluteDifference(logits(parity.cases[0]), before) == 0)
    }

    @Test("GPT-2's tied head multiplies by the table with the trained rows in place")
    func tiedHead() throws {
        let model = tinyGPT2()
        let peft = try PEFTModel(
            model,
            configuration: TrainableTokensConfiguration {
                $0.tokenIndices = [2, 7]
                $0.initializesFromBase = false
            })
        let layer = try #require(model.transformer.tokenEmbedding as? TrainableTokensEmbedding)
        let delta = try #require(layer.adapters["default"]?.delta.value)
        let table = model.transformer.tokenEmbedding.weight
        #expect(
            table.narrowed(alongAxis: 0, start: 7, length: 1).scalars == Array(delta.scalars[16...])
        )
        #expect(
            table.narrowed(alongAxis: 0, start: 3, length: 1).scalars
                == layer.base.weight.narrowed(alongAxis: 0, start: 3, length: 1).scalars)
        // Lookup and head agree: the embedding of token 2 is row 2 of the head's matrix.
        let lookup = layer([2], shape: [1])
        #expect(lookup.scalars == Array(delta.scalars[..<16]))
        #expect(
            (peft.configurations["default"] as? TrainableTokensConfiguration)?.targets
                == .pattern("transformer.wte"))
    }

    @Test("Replacing rows passes finite-difference gradient checks for the rows and the new values")
    func gradients() {
        let source = [0, 2, 0, 1, 2]
        expectGradientsMatchFiniteDifferences(
            [randomTensor([5, 3], seed: 1), randomTensor([3, 3], seed: 2)]
        ) { inputs in
            replacingRows(inputs[0], from: inputs[1], source: source)
        }
    }

    @Test("Training changes only the chosen rows; the base stays bit-identical and the loss falls")
    func training() throws {
        let model = tinyGPT2()
        let before = model.namedParameters().map { ($0.path, $0.parameter.value.scalars) }
        let peft = try PEFTModel(
            model, configuration: TrainableTokensConfiguration { $0.tokenIndices = [1, 5, 9] })
        peft.train()
        #expect(peft.trainableParameters.count == 1)
        #expect(peft.trainableParameters[0].shape == [3, 16])
        let tokens = [[1, 5, 9, 2, 7, 3], [9, 5, 1, 1, 0, 2]]
        func loss() -> Tensor {
            causalLanguageModelingLoss(
                logits: peft.logits(DecoderInputs(tokenIDs: tokens)), labels: tokens)
        }
        let first = loss().scalars[0]
        for _ in 0..<30 {
            let value = loss()
            value.backward()
            for parameter in peft.trainableParameters {
                let gradient = parameter.gradient!.scalars
                parameter.updateInPlace { values in
                    for index in values.indices { values[index] -= 0.5 * gradient[index] }
                }
                parameter.zeroGradient()
            }
        }
        let last = loss().scalars[0]
        #expect(last < first - 0.05, "loss \(first) → \(last)")
        let layer = try #require(model.transformer.tokenEmbedding as? TrainableTokensEmbedding)
        #expect(layer.base.weight.scalars == before.first { $0.0 == "transformer.wte.weight" }!.1)
        let after = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        for (path, scalars) in before {
            let key = path == "transformer.wte.weight" ? "transformer.wte.base_layer.weight" : path
            #expect(after[key]!.value.scalars == scalars, "\(path)")
            #expect(after[key]!.gradient == nil)
        }
    }

    @Test(
        "Merging writes the rows into the table with the outputs unchanged; unmerging restores it")
    func merge() throws {
        let model = tinyGPT2()
        let original = model.transformer.tokenEmbedding.weight.scalars
        let peft = try PEFTModel(
            model,
            configuration: TrainableTokensConfiguration {
                $0.tokenIndices = [4, 0]
                $0.initializesFromBase = false
            })
        peft.eval()
        let unmerged = peft.logits(DecoderInputs(tokenIDs: sampleTokens))
        try peft.merge()
        #expect(
            maxAbsoluteDifference(peft.logits(DecoderInputs(tokenIDs: sampleTokens)), unmerged)
                <= 1e-6)
        try peft.unmerge()
        let layer = try #require(model.transformer.tokenEmbedding as? TrainableTokensEmbedding)
        #expect(layer.base.weight.scalars == original)
    }

    @Test(
        "Repeated, negative and out-of-range indices, and tokens on a LoRA-adapted embedding, are refused"
    )
    func refusals() throws {
        #expect(
            throws: AdapterError.invalidConfiguration(
                key: "token_indices", reason: "repeats an index")
        ) {
            try PEFTModel(
                tinyGPT2(),
                configuration: TrainableTokensConfiguration { $0.tokenIndices = [1, 1] })
        }
        #expect(throws: AdapterError.self) {
            try PEFTModel(
                tinyGPT2(), configuration: TrainableTokensConfiguration { $0.tokenIndices = [-1] })
        }
        #expect(throws: AdapterError.self) {
            try PEFTModel(
                tinyGPT2(), configuration: TrainableTokensConfiguration { $0.tokenIndices = [32] })
        }
        #expect(throws: AdapterError.self) {
            try PEFTModel(
                tinyGPT2(),
                configuration: LoRAConfiguration {
                    $0.targets = .suffixes(["wte", "c_attn"])
                    $0.trainableTokenIndices = .inputEmbedding([1])
                })
        }
        // T5's tables are plain embedding slots shared by three modules: refused, not half-wrapped.
        let t5 = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder("t5-v1_0-tiny"))
        #expect(throws: (any Error).self) {
            try PEFTModel(t5, configuration: TrainableTokensConfiguration { $0.tokenIndices = [3] })
        }
        let json = #"{"peft_type": "LORA", "trainable_token_indices": "wte"}"#
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(LoRAConfiguration.self, from: Data(json.utf8))
        }
    }

    @Test(
        "Adapters changed and saved here reload with the logits written beside them (for Python too)",
        arguments: fixtureNames)
    func export(name: String) throws {
        let root =
            ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? testScratchRoot.appendingPathComponent(
                "peft-export-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("swift-\(name)")
        let (peft, logits, parity) = try loadFixture(name)
        var generator = RandomGenerator(seed: 31)
        for (_, parameter) in peft.tensors(
            of: peft.configurations["default"]!, adapterName: "default")
        {
            let noise = Tensor.normal(parameter.shape, standardDeviation: 0.3, using: &generator)
            parameter.assign(withoutGradients { parameter.value + noise })
        }
        let changed = logits(parity.cases[0])
        try peft.save(to: folder)
        let record: [String: Any] = [
            "base_model": parity.object["base_model"] as! String,
            "input_ids": parity.cases[0].inputIDs, "attention_mask": parity.cases[0].attentionMask,
            "logits_shape": changed.shape, "logits": changed.scalars.map { Double($0) },
        ]
        try JSONSerialization.data(withJSONObject: record).write(
            to: folder.appendingPathComponent("swift_logits.json"))
        let reloaded = try loadFixture(name)
        try reloaded.peft.deleteAdapter("default")
        try reloaded.peft.loadAdapter(from: folder, as: "default")
        try reloaded.peft.setAdapter("default")
        #expect(maxAbsoluteDifference(reloaded.logits(parity.cases[0]), changed) <= 1e-6)
    }
}
