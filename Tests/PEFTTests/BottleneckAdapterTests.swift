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
}
