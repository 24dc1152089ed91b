import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// `layer2(layer1(x))`, plus a layer the forward pass never reads: a network whose sensitive
/// parts are known exactly.
final class ProbeNetwork: Module {
    @Child(key: "layer1") var first: Linear
    @Child(key: "layer2") var second: Linear
    @Child(key: "unused") var unused: Linear

    init(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        super.init()
        first = Linear(inputFeatures: 8, outputFeatures: 6, using: &generator)
        second = Linear(inputFeatures: 6, outputFeatures: 2, using: &generator)
        unused = Linear(inputFeatures: 8, outputFeatures: 1, bias: false, using: &generator)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { second(first(x)) }

    /// The squared error of output 0 on batch `batch`, whose inputs' last four features are zero.
    ///
    /// So `layer1.weight[:, 4...]` gets no gradient (its inputs are zero), nor does row 1 of
    /// `layer2` (the loss ignores output 1), nor `unused`.
    func loss(batch: Int) -> Tensor {
        var generator = RandomGenerator(seed: 100 + UInt64(batch))
        let random = Tensor.normal([5, 8], standardDeviation: 1, using: &generator).scalars
        let inputs = Tensor(
            shape: [5, 8], scalars: random.enumerated().map { $0.offset % 8 < 4 ? $0.element : 0 })
        let targets = Tensor.normal([5, 1], standardDeviation: 1, using: &generator)
        let outputMask = Tensor(shape: [1, 2], scalars: [1, 0])
        let error = self(inputs) * outputMask - targets * outputMask
        return (error * error).mean()
    }

    /// Flat indices of the entries that affect the loss, by parameter path.
    static let liveEntries: [String: [Int]] = [
        "layer1.weight": (0..<6).flatMap { row in (0..<4).map { row * 8 + $0 } },
        "layer1.bias": Array(0..<6),
        "layer2.weight": Array(0..<6),
        "layer2.bias": [0],
    ]
}

/// Every parameter's elements by path, to compare models bit for bit.
private func parameterBits(_ model: Module) -> [String: [UInt32]] {
    Dictionary(
        uniqueKeysWithValues: model.namedParameters().map {
            ($0.path, $0.parameter.value.scalars.map(\.bitPattern))
        })
}

/// The language-modelling loss of a tiny GPT-2 on the sample tokens.
private func sampleLoss(_ model: GPT2LMHeadModel) -> Tensor {
    causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens)
}

/// Runs `steps` optimizer steps on the sample loss and returns the losses before each.
@discardableResult
private func train(_ model: GPT2LMHeadModel, with optimizer: any Optimizer, steps: Int) -> [Float] {
    (0..<steps).map { _ in
        let loss = sampleLoss(model)
        loss.backward()
        optimizer.step()
        optimizer.zeroGradients()
        return loss.scalar
    }
}

/// An element-level selection of every seventh entry of layer 0's `c_attn` weight plus layer 1's
/// `c_attn` bias, whole.
private func stridedSelection(in model: GPT2LMHeadModel) throws -> ParameterSelection {
    let weight = try #require(
        model.namedParameters().first { $0.path == "transformer.h.0.attn.c_attn.weight" })
    return try ParameterSelection(
        model: model,
        entries: [
            "transformer.h.0.attn.c_attn.weight": .indices(
                Array(stride(from: 3, to: weight.parameter.count, by: 7))),
            "transformer.h.1.attn.c_attn.bias": .all,
        ])
}

@Suite("Selective tuning")
struct SelectiveTuningTests {
    @Test("BitFit selects exactly the biases of a tiny GPT-2 and reports them per layer")
    func bitFitSelectsBiases() throws {
        let model = tinyGPT2()
        let selection = try ParameterSelection.biases(in: model)
        let biases = model.namedParameters().filter { $0.path.hasSuffix(".bias") }
        #expect(selection.parameters.map(\.path) == biases.map(\.path))
        #expect(selection.parameters.allSatisfy { $0.entries == .all })
        #expect(selection.granularity == .tensor && selection.criterion == nil)
        let biasCount = biases.reduce(0) { $0 + $1.parameter.count }
        #expect(selection.selectedCount == biasCount)
        #expect(selection.fraction == Double(biasCount) / Double(model.parameterCount))

        try selection.apply(to: model)
        #expect(
            model.namedParameters().filter(\.parameter.isTrainable).map(\.path)
                == biases.map(\.path))

        let report = selection.report
        #expect(report.rows.map(\.layer) == ["transformer", "transformer.h.0", "transformer.h.1"])
        #expect(report.totalCount == model.parameterCount && report.selectedCount == biasCount)
        let layerZero = biases.filter { $0.path.hasPrefix("transformer.h.0.") }
        #expect(report.rows[1].selectedCount == layerZero.reduce(0) { $0 + $1.parameter.count })
        let lines = report.description.split(separator: "\n")
        #expect(lines.count == 5 && lines[0].hasPrefix("layer") && lines[4].hasPrefix("total"))
    }

    @Test("BitFit on a model without biases throws an error that suggests LoRA, IA3 or a pattern")
    func bitFitWithoutBiases() throws {
        let model = tinyT5()
        #expect(!model.namedParameters().contains { $0.path.hasSuffix(".bias") })
        let error = #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.biases(in: model)
        }
        #expect(error == .noBiases(model: "T5ForConditionalGeneration"))
        let message = error?.description ?? ""
        #expect(message.contains("LoRA") && message.contains("IA3") && message.contains("pattern"))
    }

    @Test("Pattern selection matches whole paths and layer selection follows PEFT's layer rule")
    func patternAndLayerSelection() throws {
        let model = tinyGPT2()
        let norms = try ParameterSelection.matching(
            #"transformer\.h\.\d+\.ln_1\.weight"#, in: model)
        #expect(
            norms.parameters.map(\.path) == [
                "transformer.h.0.ln_1.weight", "transformer.h.1.ln_1.weight",
            ])
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.matching("ln_1", in: model)
        }
        #expect(throws: SelectiveTuningError.invalidPattern("(")) {
            try ParameterSelection.matching("(", in: model)
        }

        let layerOne = try ParameterSelection.layers([1], in: model)
        let expected = model.namedParameters().map(\.path).filter {
            $0.hasPrefix("transformer.h.1.")
        }
        #expect(layerOne.parameters.map(\.path) == expected)
        #expect(try ParameterSelection.layers([1], in: model, layersPattern: ["h"]) == layerOne)
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.layers([7], in: model)
        }
        #expect(throws: SelectiveTuningError.unknownParameter(path: "transformer.h.9.ln_1.weight"))
        {
            try ParameterSelection(model: model, entries: ["transformer.h.9.ln_1.weight": .all])
        }
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection(
                model: model, entries: ["transformer.ln_f.bias": .indices([2, 1])])
        }
    }

    @Test("SparseAdamW equals AdamW bit for bit on a whole-tensor selection")
    func sparseAdamWMatchesAdamW() throws {
        let dense = tinyGPT2()
        let sparse = tinyGPT2()
        let selection = try ParameterSelection.biases(in: dense)
        try selection.apply(to: dense)
        try selection.apply(to: sparse)
        let adamW = AdamW(dense.trainableParameters, learningRate: 1e-2, weightDecay: 0.1)
        let sparseAdamW = try SparseAdamW(
            sparse, selection: selection, learningRate: 1e-2, weightDecay: 0.1)
        let denseLosses = train(dense, with: adamW, steps: 5)
        let sparseLosses = train(sparse, with: sparseAdamW, steps: 5)
        #expect(denseLosses == sparseLosses)
        #expect(parameterBits(dense) == parameterBits(sparse))
        #expect(sparseAdamW.stateElementCount == adamW.stateElementCount)
        #expect(sparseAdamW.stepCount == 5)
    }

    @Test("SparseAdamW moves only the selected entries and holds moments for those alone")
    func sparseAdamWKeepsUnselectedEntries() throws {
        let model = tinyGPT2()
        let selection = try stridedSelection(in: model)
        model.freeze()
        #expect(
            throws: SelectiveTuningError.selectedParameterFrozen(
                path: "transformer.h.0.attn.c_attn.weight")
        ) {
            try SparseAdamW(model, selection: selection)
        }
        let before = parameterBits(model)
        try selection.apply(to: model)
        let optimizer = try SparseAdamW(model, selection: selection, learningRate: 1e-2)
        #expect(optimizer.stateElementCount == 0)
        train(model, with: optimizer, steps: 3)
        #expect(optimizer.stateElementCount == 2 * selection.selectedCount)
        #expect(selection.selectedCount < model.parameterCount / 20)

        let after = parameterBits(model)
        let weightPath = "transformer.h.0.attn.c_attn.weight"
        let chosen = Set(try #require(selection[weightPath]).flatIndices)
        for (path, bits) in before where path != weightPath {
            if path == "transformer.h.1.attn.c_attn.bias" {
                #expect(bits != after[path]!, "the whole selected bias did not move")
            } else {
                #expect(bits == after[path]!, "\(path) changed")
            }
        }
        for (index, (old, new)) in zip(before[weightPath]!, after[weightPath]!).enumerated() {
            if chosen.contains(index) {
                #expect(old != new, "selected entry \(index) did not move")
            } else {
                #expect(old == new, "unselected entry \(index) changed")
            }
        }
    }

    @Test("SparseAdamW's saved state resumes training exactly")
    func sparseAdamWStateRoundTrip() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let straight = tinyGPT2()
        let resumed = tinyGPT2()
        let selection = try stridedSelection(in: straight)
        try selection.apply(to: straight)
        try selection.apply(to: resumed)
        let names = selection.parameters.map(\.path)
        let first = try SparseAdamW(straight, selection: selection, learningRate: 1e-2)
        train(straight, with: first, steps: 4)

        let before = try SparseAdamW(resumed, selection: selection, learningRate: 1e-2)
        train(resumed, with: before, steps: 2)
        let stateFile = folder.appendingPathComponent("optimizer.safetensors")
        try before.saveState(to: stateFile, parameterNames: names)
        let after = try SparseAdamW(resumed, selection: selection, learningRate: 0)
        try after.loadState(from: stateFile, parameterNames: names)
        #expect(after.stepCount == 2 && after.learningRate == 1e-2)
        train(resumed, with: after, steps: 2)
        #expect(parameterBits(straight) == parameterBits(resumed))

        let other = try ParameterSelection(
            model: resumed,
            entries: [
                "transformer.h.0.attn.c_attn.weight": .indices([0, 1, 2]),
                "transformer.h.1.attn.c_attn.bias": .all,
            ])
        let mismatched = try SparseAdamW(resumed, selection: other)
        #expect(throws: OptimizerStateError.self) {
            try mismatched.loadState(from: stateFile, parameterNames: names)
        }
    }

    @Test(
        "Every criterion ranks the entries, rows and tensors that affect the loss above the rest",
        arguments: SensitivityCriterion.allCases)
    func rankingFindsTheSensitivePart(criterion: SensitivityCriterion) throws {
        let network = ProbeNetwork(seed: 3)
        network.first.freeze(where: { $0 == "bias" })
        let before = parameterBits(network)
        let trainable = network.namedParameters().map(\.parameter.isTrainable)
        let liveCount = ProbeNetwork.liveEntries.values.reduce(0) { $0 + $1.count }

        let elements = try ParameterSelection.ranked(
            model: network, calibrationBatches: 3, criterion: criterion,
            budget: .count(liveCount), loss: network.loss(batch:))
        let chosen = Dictionary(
            uniqueKeysWithValues: elements.parameters.map { ($0.path, $0.flatIndices) })
        #expect(chosen == ProbeNetwork.liveEntries)
        #expect(elements.granularity == .element && elements.criterion == criterion)

        let rows = try ParameterSelection.ranked(
            model: network, calibrationBatches: 3, criterion: criterion, budget: .count(6),
            granularity: .row, candidates: { $0 == "layer2.weight" }, loss: network.loss(batch:))
        #expect(rows.parameters.map(\.path) == ["layer2.weight"])
        #expect(rows["layer2.weight"]?.entries == .indices(Array(0..<6)))

        let tensorBudget = network.parameterCount - network.unused.parameterCount
        let tensors = try ParameterSelection.ranked(
            model: network, calibrationBatches: 3, criterion: criterion,
            budget: .count(tensorBudget), granularity: .tensor, loss: network.loss(batch:))
        #expect(
            tensors.parameters.map(\.path)
                == ["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"])

        #expect(parameterBits(network) == before)
        #expect(network.parameters.allSatisfy { $0.gradient == nil })
        #expect(network.namedParameters().map(\.parameter.isTrainable) == trainable)
    }

    @Test("A ranking rejects an impossible budget, no batches and no candidates")
    func rankingErrors() throws {
        let network = ProbeNetwork(seed: 3)
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.ranked(
                model: network, calibrationBatches: 1, criterion: .fisher, budget: .fraction(1.5),
                loss: network.loss(batch:))
        }
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.ranked(
                model: network, calibrationBatches: 1, criterion: .fisher,
                budget: .count(network.parameterCount + 1), loss: network.loss(batch:))
        }
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.ranked(
                model: network, calibrationBatches: 0, criterion: .fisher, budget: .count(1),
                loss: network.loss(batch:))
        }
        #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.ranked(
                model: network, calibrationBatches: 1, criterion: .fisher, budget: .count(1),
                candidates: { _ in false }, loss: network.loss(batch:))
        }
    }

    @Test("Training a ranked element selection lowers the loss and its checkpoint reloads exactly")
    func trainSaveAndReload() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = tinyGPT2()
        let selection = try ParameterSelection.ranked(
            model: model, calibrationBatches: 2, criterion: .fisher, budget: .fraction(0.05)
        ) { batch in
            causalLanguageModelingLoss(
                logits: model([sampleTokens[batch]]), labels: [sampleTokens[batch]])
        }
        #expect(
            selection.parameters.contains { if case .indices = $0.entries { true } else { false } })
        let base = try selection.snapshot(of: model)
        try selection.apply(to: model)
        let optimizer = try SparseAdamW(model, selection: selection, learningRate: 2e-2)
        let losses = train(model, with: optimizer, steps: 25)
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")

        try selection.saveDelta(of: model, relativeTo: base, to: folder)
        let fresh = tinyGPT2()
        let loaded = try ParameterSelection.loadDelta(from: folder, into: fresh)
        #expect(loaded == selection)
        #expect(parameterBits(fresh) == parameterBits(model))
        #expect(
            fresh(sampleTokens).scalars.map(\.bitPattern)
                == model(sampleTokens).scalars.map(\.bitPattern))

        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        let sparse = try #require(selection.parameters.first { $0.entries != .all })
        #expect(file.info("\(sparse.path).indices")?.dtype == .int64)
        #expect(try file.int64s("\(sparse.path).indices") == sparse.flatIndices.map(Int64.init))
        let json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json")))
            as? [String: Any]
        #expect(json?["peft_type"] as? String == "SELECTIVE")
        #expect(json?["criterion"] as? String == "fisher")
        #expect(json?["granularity"] as? String == "element")
        #expect(json?["selected"] as? Int == selection.selectedCount)
        #expect((json?["budget"] as? [String: Double])?["fraction"] == 0.05)
    }

    @Test("An entry no Float32 delta can reproduce is stored by value and reloads exactly")
    func exactValuesForUnrepresentableDeltas() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        func network() -> ProbeNetwork {
            let network = ProbeNetwork(seed: 5)
            network.first.weight.storage.pointer[0] = 0.3
            return network
        }
        let tuned = network()
        let selection = try ParameterSelection(
            model: tuned, entries: ["layer1.weight": .indices([0, 9]), "layer2.bias": .all])
        let base = try selection.snapshot(of: tuned)
        tuned.first.weight.storage.pointer[0] = 1e-12
        tuned.first.weight.storage.pointer[9] += 0.0123
        tuned.second.bias!.storage.pointer[1] = -1e-20
        try selection.saveDelta(of: tuned, relativeTo: base, to: folder)

        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        #expect(try file.int64s("layer1.weight.exact_indices") == [0])
        #expect(file.info("layer2.bias.delta")?.shape == [2])
        let fresh = network()
        try ParameterSelection.loadDelta(from: folder, into: fresh)
        #expect(parameterBits(fresh) == parameterBits(tuned))
    }

    @Test("saveDelta refuses a model whose unselected entries changed")
    func saveDeltaChecksUnselectedEntries() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let network = ProbeNetwork(seed: 5)
        let selection = try ParameterSelection(
            model: network, entries: ["layer1.weight": .indices([0, 9])])
        let base = try selection.snapshot(of: network)
        network.first.weight.storage.pointer[10] += 1
        #expect(
            throws: SelectiveTuningError.unselectedEntryChanged(path: "layer1.weight", index: 10)
        ) {
            try selection.saveDelta(of: network, relativeTo: base, to: folder)
        }
        #expect(throws: SelectiveTuningError.self) {
            try selection.saveDelta(of: network, relativeTo: [:], to: folder)
        }
    }

    @Test("loadDelta rejects bad indices, missing keys and wrong shapes, naming file and key")
    func loadDeltaErrors() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let network = ProbeNetwork(seed: 5)
        let selection = try ParameterSelection(
            model: network, entries: ["layer1.weight": .indices([0, 9]), "layer2.bias": .all])
        let base = try selection.snapshot(of: network)
        try selection.saveDelta(of: network, relativeTo: base, to: folder)
        let tensorsURL = folder.appendingPathComponent("adapter_model.safetensors")
        let file = tensorsURL.path

        /// Rewrites the tensors file with `edit` applied to a writer holding the valid tensors
        /// except those in `dropping`, then loads it into a fresh network.
        func load(dropping: Set<String> = [], _ edit: (inout SafeTensorsWriter) throws -> Void)
            throws
        {
            var writer = SafeTensorsWriter()
            if !dropping.contains("layer1.weight.indices") {
                try writer.add("layer1.weight.indices", shape: [2], int64Values: [0, 9])
            }
            if !dropping.contains("layer1.weight.delta_values") {
                try writer.add("layer1.weight.delta_values", shape: [2], values: [1, 2])
            }
            if !dropping.contains("layer2.bias.delta") {
                try writer.add("layer2.bias.delta", shape: [2], values: [3, 4])
            }
            try edit(&writer)
            try writer.write(to: tensorsURL)
            let target = ProbeNetwork(seed: 5)
            let before = parameterBits(target)
            do {
                try ParameterSelection.loadDelta(from: folder, into: target)
            } catch {
                #expect(parameterBits(target) == before, "a failed load changed the model")
                throw error
            }
        }

        try load { _ in }
        #expect(
            throws: SelectiveTuningError.indexOutOfRange(
                file: file, key: "layer1.weight.indices", index: 48, count: 48)
        ) {
            try load(dropping: ["layer1.weight.indices"]) {
                try $0.add("layer1.weight.indices", shape: [2], int64Values: [0, 48])
            }
        }
        #expect(
            throws: SelectiveTuningError.indexOutOfRange(
                file: file, key: "layer1.weight.indices", index: -1, count: 48)
        ) {
            try load(dropping: ["layer1.weight.indices"]) {
                try $0.add("layer1.weight.indices", shape: [2], int64Values: [-1, 3])
            }
        }
        #expect(
            throws: SelectiveTuningError.indexOutOfRange(
                file: file, key: "layer1.weight.indices", index: 2, count: 48)
        ) {
            try load(dropping: ["layer1.weight.indices"]) {
                try $0.add("layer1.weight.indices", shape: [2], int64Values: [5, 2])
            }
        }
        #expect(
            throws: SelectiveTuningError.missingTensor(
                file: file, key: "layer1.weight.delta_values")
        ) {
            try load(dropping: ["layer1.weight.delta_values"]) { _ in }
        }
        #expect(
            throws: SelectiveTuningError.tensorShapeMismatch(
                file: file, key: "layer1.weight.delta_values", expected: [2], found: [3])
        ) {
            try load(dropping: ["layer1.weight.delta_values"]) {
                try $0.add("layer1.weight.delta_values", shape: [3], values: [1, 2, 3])
            }
        }
        #expect(
            throws: SelectiveTuningError.tensorShapeMismatch(
                file: file, key: "layer2.bias.delta", expected: [2], found: [1, 2])
        ) {
            try load(dropping: ["layer2.bias.delta"]) {
                try $0.add("layer2.bias.delta", shape: [1, 2], values: [3, 4])
            }
        }
        #expect(throws: SelectiveTuningError.unexpectedTensor(file: file, key: "layer9.delta")) {
            try load { try $0.add("layer9.delta", shape: [1], values: [0]) }
        }
        #expect(throws: SafeTensorsError.self) {
            try load(dropping: ["layer1.weight.indices"]) {
                try $0.add("layer1.weight.indices", shape: [2], values: [0, 9])
            }
        }
        try FileManager.default.removeItem(
            at: folder.appendingPathComponent("adapter_config.json"))
        #expect(throws: SelectiveTuningError.self) { try load { _ in } }
    }

    @Test("Integer tensors are written as I64 and read back exactly")
    func integerTensorsRoundTrip() throws {
        var writer = SafeTensorsWriter()
        let values: [Int64] = [0, 1 << 40 + 1, -5, .max]
        try writer.add("indices", shape: [2, 2], int64Values: values)
        try writer.add("floats", shape: [1], values: [1.5])
        #expect(throws: SafeTensorsError.self) {
            try writer.add("wrong", shape: [3], int64Values: [1, 2])
        }
        let file = try SafeTensorsFile(data: writer.encoded(), name: "memory")
        #expect(file.info("indices")?.dtype == .int64 && file.info("indices")?.shape == [2, 2])
        #expect(try file.int64s("indices") == values)
        #expect(try file.floats("floats") == [1.5])
        #expect(throws: SafeTensorsError.self) { try file.int64s("floats") }
    }
}
