import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// The OFT layers of a model.
private func oftLayers(_ model: Module) -> [OFTLinear] {
    model.namedModules().compactMap { $0.module as? OFTLinear }
}

@Suite("OFT")
struct OFTTests {
    @Test(
        "A PEFT-written OFT adapter gives PEFT's logits (exact Cayley, Neumann series, COFT, block_share)",
        arguments: [
            "oft-llama-cayley", "oft-llama-neumann-bias", "oft-t5-v1_0-coft",
            "oft-t5-v1_1-block-share",
        ])
    func parity(name: String) throws {
        try expectAdapterParity(name)
    }

    @Test("COFT clamps the loaded blocks to eps / √(stored blocks), leaving the smaller ones")
    func constrainedProjection() throws {
        let (peft, _) = try expectAdapterParity("oft-t5-v1_0-coft")
        let model = peft.baseModule
        let file = try SafeTensorsFile(
            contentsOf: ParityFixture.folder("oft-t5-v1_0-coft").appendingPathComponent(
                AdapterFolder.weightsFile))
        let bound = Float(0.9) / Float(2).squareRoot()
        var clamped = 0
        var kept = 0
        for (path, module) in model.namedModules() {
            guard let layer = module as? OFTLinear else { continue }
            let rotation = layer.adapters["default"]!
            var saved = [Float](repeating: 0, count: rotation.weight.count)
            try saved.withUnsafeMutableBufferPointer {
                try file.copyFloats("base_model.model.\(path).oft_R.weight", into: $0)
            }
            let width = rotation.weight.shape[1]
            let current = rotation.weight.value.scalars
            for block in 0..<rotation.weight.shape[0] {
                let range = block * width..<(block + 1) * width
                let savedNorm = (2 * saved[range].reduce(0) { $0 + $1 * $1 }).squareRoot()
                let norm = (2 * current[range].reduce(0) { $0 + $1 * $1 }).squareRoot()
                if savedNorm > bound {
                    clamped += 1
                    #expect(abs(norm - bound) < 1e-5)
                } else {
                    kept += 1
                    #expect(Array(current[range]) == Array(saved[range]))
                }
            }
        }
        #expect(clamped == 19 && kept == 5)
    }

    @Test("The exact Cayley transform is orthogonal; the series is PEFT's polynomial")
    func rotations() throws {
        var generator = RandomGenerator(seed: 3)
        let packed = Tensor.normal([3, 10], standardDeviation: 0.2, using: &generator)
        func rotation(neumann: Bool, terms: Int = 5) -> Tensor {
            let configuration = OFTConfiguration {
                $0.usesCayleyNeumann = neumann
                $0.cayleyNeumannTerms = terms
            }
            return OFTRotation(
                weight: packed, blockSize: 5, blockCount: 3, configuration: configuration
            ).rotations()
        }
        let exact = rotation(neumann: false)
        let identity = OFTRotation.identity(5).expanded(to: [3, 5, 5])
        expectClose(matmul(exact, exact, transposingLeft: true), identity, tolerance: 1e-5)
        let q = skewSymmetricMatrices(fromUpperTriangles: packed, size: 5)
        // R = (I − Q)(I + Q)⁻¹: R·(I + Q) = I − Q.
        expectClose(matmul(exact, identity + q), identity - q, tolerance: 1e-5)
        let q2 = matmul(q, q)
        let q3 = matmul(q2, q)
        expectClose(
            rotation(neumann: true), identity + 2 * q + 2 * q2 + 2 * q3 + matmul(q3, q),
            tolerance: 1e-6)
        expectClose(
            rotation(neumann: true, terms: 3), rotation(neumann: true, terms: 4), tolerance: 0)
        expectClose(rotation(neumann: true, terms: 2), identity + 2 * q, tolerance: 1e-7)
        expectClose(rotation(neumann: true, terms: 1), identity, tolerance: 0)
    }

    @Test("Block sizes that do not divide the width move to the nearest divisor, as in PEFT")
    func blockLayout() {
        #expect(OFTBlockLayout.resolve(inputs: 16, blockCount: 0, blockSize: 5) == (4, 4))
        #expect(OFTBlockLayout.resolve(inputs: 768, blockCount: 0, blockSize: 100) == (8, 96))
        #expect(OFTBlockLayout.resolve(inputs: 16, blockCount: 0, blockSize: 32) == (1, 16))
        #expect(OFTBlockLayout.resolve(inputs: 32, blockCount: 3, blockSize: 0) == (2, 16))
        #expect(OFTBlockLayout.resolve(inputs: 12, blockCount: 0, blockSize: 5) == (3, 4))
    }

    @Test("A fresh adapter is the identity; block_share stores one block per layer")
    func defaults() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let parity = try ParityFixture("llama-tiny").cases[0]
        let before = LlamaFixtures.logits(model, parity)
        let peft = try PEFTModel(
            model,
            configuration: OFTConfiguration {
                $0.blockSize = 4
                $0.sharesBlocks = true
            })
        let configuration = try #require(peft.configurations["default"] as? OFTConfiguration)
        #expect(configuration.targets == .suffixes(["q_proj", "v_proj"]))
        let layers = oftLayers(model)
        #expect(layers.count == 4)
        #expect(layers.allSatisfy { $0.adapters["default"]!.weight.shape == [1, 6] })
        #expect(layers.allSatisfy { $0.adapters["default"]!.blockCount == 4 })
        expectClose(LlamaFixtures.logits(peft, parity), before, tolerance: 1e-6)
    }

    @Test("Refusals name the key: Conv1D targets, r with oft_block_size, pre-0.14 files")
    func refusals() throws {
        #expect {
            try PEFTModel(tinyGPT2(), configuration: OFTConfiguration())
        } throws: { error in
            guard
                case .invalidConfiguration(key: "target_modules", let reason) = error
                    as? AdapterError
            else { return false }
            return reason.contains("Conv1D")
        }
        #expect(throws: AdapterError.self) {
            try OFTConfiguration {
                $0.blockCount = 2
                $0.blockSize = 4
            }.validate()
        }
        let old = #"{"peft_type": "OFT", "r": 8}"#
        #expect(throws: AdapterError.self) {
            try JSONDecoder().decode(OFTConfiguration.self, from: Data(old.utf8))
        }
        let data = try AdapterConfigurationFile.encode(OFTConfiguration())
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        // PEFT parses peft_version as a version number when use_cayley_neumann is set.
        #expect(object["peft_version"] as? String == "0.21.2+swift-peft")
        #expect(object["use_cayley_neumann"] as? Bool == true)
    }

    @Test(
        "Training moves only the blocks: loss falls, the base stays bit-identical, COFT stays bounded",
        arguments: [false, true])
    func training(constrained: Bool) throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let before = baseParameterBits(model)
        let peft = try PEFTModel(
            model,
            configuration: OFTConfiguration {
                $0.blockSize = 4
                $0.targets = .allLinear
                $0.usesCayleyNeumann = false
                $0.constrained = constrained
                $0.epsilon = 0.5
            })
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 3e-2, weightDecay: 0)
        var losses: [Float] = []
        for step in 0..<30 {
            let loss = causalLanguageModelingLoss(
                logits: peft.logits(DecoderInputs(tokenIDs: sampleTokens)), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            if step == 0 {
                let withGradients = model.namedParameters().filter { $0.parameter.gradient != nil }
                #expect(withGradients.allSatisfy { $0.path.contains(".oft_R.") })
                #expect(withGradients.count == 14)
            }
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")
        let after = baseParameterBits(model)
        for (path, bits) in before { #expect(after[path] == bits, "\(path) changed") }
        if constrained {
            _ = peft.logits(DecoderInputs(tokenIDs: sampleTokens))
            for layer in oftLayers(model) {
                let weight = layer.adapters["default"]!.weight
                let bound = 0.5 / Float(weight.shape[0]).squareRoot()
                let width = weight.shape[1]
                let values = weight.value.scalars
                for block in 0..<weight.shape[0] {
                    let norm =
                        (2
                        * values[block * width..<(block + 1) * width].reduce(0) {
                            $0 + $1 * $1
                        }).squareRoot()
                    #expect(norm <= bound * (1 + 1e-5))
                }
            }
        }
    }

    @Test(
        "Merging keeps the outputs and unmerging restores the weights, exact and series",
        arguments: [false, true])
    func merge(neumann: Bool) throws {
        let subject = try MergeSubject("llama-tiny")
        let peft = try subject.apply(
            OFTConfiguration {
                $0.blockCount = 2
                $0.blockSize = 0
                $0.targets = .allLinear
                $0.usesCayleyNeumann = neumann
                $0.initializesWeights = false
            })
        try subject.expectMergeRoundTrip(peft, wrapper: OFTLinear.self)
    }

    @Test("Adapters saved here reload with the same logits")
    func roundTrip() throws {
        let llamaParity = try ParityFixture("llama-tiny").cases[1]
        let llama = try LlamaFixtures.load("llama-tiny")
        var configuration = OFTConfiguration {
            $0.blockSize = 8
            $0.targets = .suffixes(["q_proj", "v_proj", "up_proj", "down_proj"])
            $0.bias = .oftOnly
            $0.initializesWeights = false
        }
        configuration.taskType = "CAUSAL_LM"
        configuration.baseModelNameOrPath = "llama-tiny"
        let peft = try PEFTModel(llama, configuration: configuration)
        var generator = RandomGenerator(seed: 9)
        perturb(peft.trainableParameters, standardDeviation: 0.2, using: &generator)
        let logits = LlamaFixtures.logits(peft, llamaParity)
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        #expect(
            file.info("base_model.model.model.layers.0.mlp.down_proj.oft_R.weight")?.shape == [
                4, 28,
            ])
        #expect(file.info("base_model.model.model.layers.0.mlp.down_proj.base_layer.bias") != nil)
        let reloaded = try PEFTModel.load(try LlamaFixtures.load("llama-tiny"), from: folder)
        expectClose(LlamaFixtures.logits(reloaded, llamaParity), logits, tolerance: 1e-6)
        try exportForPython(
            peft, name: "swift-oft-llama", baseModel: "llama-tiny", parity: llamaParity,
            logits: logits)

        let t5Parity = try ParityFixture("t5-v1_1-tiny").cases[1]
        let t5 = try FixtureModels.load("t5-v1_1-tiny")
        FixtureModels.module(t5).eval()
        var t5Configuration = OFTConfiguration {
            $0.blockSize = 4
            $0.sharesBlocks = true
            $0.constrained = true
            $0.epsilon = 0.4
            $0.initializesWeights = false
        }
        t5Configuration.taskType = "SEQ_2_SEQ_LM"
        t5Configuration.baseModelNameOrPath = "t5-v1_1-tiny"
        let t5PEFT = try makePEFTModel(FixtureModels.module(t5), configuration: t5Configuration)
        perturb(t5PEFT.trainableParameters, standardDeviation: 0.3, using: &generator)
        let t5Logits = FixtureModels.logits(t5PEFT, t5Parity)
        let t5Folder = try temporaryDirectory()
        try t5PEFT.save(to: t5Folder, adapters: nil)
        let t5Reloaded = try FixtureModels.load("t5-v1_1-tiny")
        FixtureModels.module(t5Reloaded).eval()
        _ = try loadPEFTModel(FixtureModels.module(t5Reloaded), from: t5Folder)
        expectClose(FixtureModels.logits(t5Reloaded, t5Parity), t5Logits, tolerance: 1e-6)
        try exportForPython(
            t5PEFT, name: "swift-oft-t5-coft-share", baseModel: "t5-v1_1-tiny", parity: t5Parity,
            logits: t5Logits)
    }
}
