import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("Bottleneck adapters")
struct BottleneckAdapterTests {
    static let placements: [BottleneckPlacement] = [.houlsby, .pfeiffer, .parallel]

    @Test(
        "Each placement wraps the right modules and a fresh adapter is the identity",
        arguments: placements)
    func placement(placement: BottleneckPlacement) throws {
        let model = tinyGPT2()
        let before = model(sampleTokens)
        let peft = try PEFTModel(
            model,
            configuration: BottleneckConfiguration(placement: placement) { $0.reductionFactor = 4 })
        let paths = peft.adapterLayers().map(\.path)
        switch placement {
        case .houlsby:
            #expect(
                paths == [
                    "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj",
                    "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj",
                ])
        case .pfeiffer:
            #expect(paths == ["transformer.h.0.mlp.c_proj", "transformer.h.1.mlp.c_proj"])
        case .parallel: #expect(paths == ["transformer.h.0.mlp", "transformer.h.1.mlp"])
        }
        expectClose(model(sampleTokens), before, tolerance: 1e-6)
        // Width 16, bottleneck 4: down 4·16 + 4, up 16·4 + 16 per adapter.
        #expect(
            peft.trainableParameters.reduce(0) { $0 + $1.count } == paths.count * (64 + 4 + 64 + 16)
        )
    }

    @Test(
        "Training lowers the loss and keeps every base weight bit-identical", arguments: placements)
    func training(placement: BottleneckPlacement) throws {
        let model = tinyGPT2()
        let before = model.namedParameters().map { ($0.path, $0.parameter.value.scalars) }
        let peft = try PEFTModel(
            model,
            configuration: BottleneckConfiguration(placement: placement) {
                $0.reductionFactor = 4
                $0.layerNorm = placement == .houlsby
                $0.nonLinearity = .gelu
            })
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 2e-2, weightDecay: 0)
        var losses: [Float] = []
        for _ in 0..<30 {
            let loss = causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(
            losses.last! < losses.first! * 0.9, "\(placement): \(losses.first!) → \(losses.last!)")
        let after = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map {
                ($0.path, $0.parameter.value.scalars)
            })
        for (path, values) in before {
            let wrapped =
                after[path] ?? after[
                    path.replacingOccurrences(of: "c_proj.", with: "c_proj.base_layer.")]
                ?? after[path.replacingOccurrences(of: "mlp.", with: "mlp.base_layer.")]
            #expect(wrapped == values, "\(path) changed")
        }
        #expect(throws: AdapterError.self) { try peft.merge() }
    }

    @Test("An adapter saved here reloads with the same outputs, on GPT-2 and T5")
    func roundTrip() throws {
        for placement in Self.placements {
            let model = tinyT5()
            let peft = try PEFTModel(
                model,
                configuration: BottleneckConfiguration(placement: placement) {
                    $0.bottleneckSize = 3
                    $0.layerNorm = true
                })
            var generator = RandomGenerator(seed: 5)
            for parameter in peft.trainableParameters {
                parameter.assign(
                    Tensor.normal(parameter.shape, standardDeviation: 0.3, using: &generator))
            }
            let inputs = [[3, 8, 12, 5, 1]]
            let expected = model(inputIDs: inputs, decoderInputIDs: [[0, 4, 9]])
            #expect(
                maxAbsoluteDifference(
                    expected,
                    try peft.withAdaptersDisabled {
                        model(inputIDs: inputs, decoderInputIDs: [[0, 4, 9]])
                    }) > 1e-3)
            let folder = try temporaryDirectory()
            try peft.save(to: folder)
            let file = try SafeTensorsFile(
                contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
            let prefix =
                placement == .parallel
                ? "base_model.model.encoder.block.0.layer.1.DenseReluDense"
                : "base_model.model.encoder.block.0.layer.1.DenseReluDense.wo"
            #expect(file.tensorNames.contains("\(prefix).adapter_up.weight"), "\(placement)")
            let fresh = tinyT5()
            _ = try PEFTModel.load(fresh, from: folder)
            expectClose(
                fresh(inputIDs: inputs, decoderInputIDs: [[0, 4, 9]]), expected, tolerance: 1e-6)
        }
    }

    @Test(
        "Each placement's forward is the bottleneck formula on the right input, from the saved weights",
        arguments: placements)
    func forwardFormula(placement: BottleneckPlacement) throws {
        let configuration = BottleneckConfiguration(placement: placement) {
            $0.bottleneckSize = 3
            $0.layerNorm = placement != .pfeiffer
            $0.nonLinearity = placement == .parallel ? .silu : .gelu
            $0.scaling = placement == .pfeiffer ? 1 : 2
        }
        let decoderInputs = [[0, 4, 9], [0, 2, 2]]
        let families: [(model: () -> Module, run: (Module) -> Tensor, adapted: Int)] = [
            (
                { tinyGPT2() }, { ($0 as! GPT2LMHeadModel)(sampleTokens) },
                placement == .houlsby ? 4 : 2
            ),
            (
                { tinyT5() },
                {
                    ($0 as! T5ForConditionalGeneration)(
                        inputIDs: sampleTokens, decoderInputIDs: decoderInputs)
                },
                placement == .houlsby ? 8 : 4
            ),
        ]
        for family in families {
            let model = family.model()
            let peft = try PEFTModel(model, configuration: configuration)
            var generator = RandomGenerator(seed: 17)
            for parameter in peft.trainableParameters {
                parameter.assign(
                    Tensor.normal(parameter.shape, standardDeviation: 0.5, using: &generator))
            }
            let folder = try temporaryDirectory()
            try peft.save(to: folder)
            let file = try SafeTensorsFile(
                contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
            // The reference: the same base model with each adapted module replaced by the formula.
            let reference = family.model()
            let prefix = "base_model.model."
            let suffix = ".adapter_down.weight"
            let paths = file.tensorNames.filter { $0.hasSuffix(suffix) }.map {
                String($0.dropFirst(prefix.count).dropLast(suffix.count))
            }
            #expect(paths.count == family.adapted, "\(placement): adapted \(paths)")
            for path in paths {
                func tensor(_ name: String) throws -> Tensor {
                    let key = "\(prefix)\(path).\(name)"
                    return Tensor(shape: file.info(key)!.shape, scalars: try file.floats(key))
                }
                let formula = BottleneckFormula(
                    down: try tensor("adapter_down.weight"),
                    downBias: try tensor("adapter_down.bias"),
                    up: try tensor("adapter_up.weight"), upBias: try tensor("adapter_up.bias"),
                    norm: configuration.layerNorm
                        ? (try tensor("adapter_norm.weight"), try tensor("adapter_norm.bias"))
                        : nil,
                    activation: configuration.nonLinearity, scaling: configuration.scaling)
                let base = try reference.module(at: path)
                let replacement: Module =
                    placement == .parallel
                    ? ParallelFormula(base: base as! any UnaryLayer, formula: formula)
                    : SequentialFormula(base: base as! any LinearLayer, formula: formula)
                try reference.replaceModule(at: path, with: replacement)
            }
            let adapted = family.run(model)
            #expect(maxAbsoluteDifference(adapted, family.run(family.model())) > 1e-2)
            expectClose(adapted, family.run(reference), tolerance: 1e-5)
        }
    }
}

/// A bottleneck written out from its tensors: `s·(W_up·act(W_down·LN(x) + b_down) + b_up)`.
struct BottleneckFormula {
    let down: Tensor
    let downBias: Tensor
    let up: Tensor
    let upBias: Tensor
    let norm: (weight: Tensor, bias: Tensor)?
    let activation: Activation
    let scaling: Float

    func callAsFunction(_ x: Tensor) -> Tensor {
        let normalized = norm.map { layerNorm(x, weight: $0.weight, bias: $0.bias) } ?? x
        let hidden = activation(matmul(normalized, down, transposingRight: true) + downBias)
        return scaling * (matmul(hidden, up, transposingRight: true) + upBias)
    }
}

/// The Houlsby and Pfeiffer placement: the bottleneck reads the layer's output and adds to it.
final class SequentialFormula: Module, LinearLayer {
    @Child(key: "base") var base: any LinearLayer
    let formula: BottleneckFormula

    init(base: any LinearLayer, formula: BottleneckFormula) {
        self.formula = formula
        super.init()
        self.base = base
    }

    var inputFeatures: Int { base.inputFeatures }
    var outputFeatures: Int { base.outputFeatures }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let output = base(x)
        return output + formula(output)
    }
}

/// The parallel placement: the bottleneck reads the block's input and adds to its output.
final class ParallelFormula: Module, UnaryLayer {
    @Child(key: "base") var base: any UnaryLayer
    let formula: BottleneckFormula

    init(base: any UnaryLayer, formula: BottleneckFormula) {
        self.formula = formula
        super.init()
        self.base = base
    }

    func callAsFunction(_ x: Tensor) -> Tensor { base(x) + formula(x) }
}
