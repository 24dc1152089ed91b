import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Loads the PEFT-written adapter fixture `name` onto its base and expects PEFT's logits within 1e-4 in
/// every case, a frozen adapter, and logits that differ from the base's; returns the container and the
/// worst difference.
@discardableResult
func expectAdapterParity(_ name: String) throws -> (peft: any PEFTModelProtocol, worst: Float) {
    let fixture = try ParityFixture(name)
    let baseName = fixture.object["base_model"] as! String
    let peft: any PEFTModelProtocol
    let logits: (ParityCase) -> Tensor
    if baseName.hasPrefix("llama") {
        let model = try LlamaFixtures.load(baseName)
        let container = try PEFTModel.load(model, from: ParityFixture.folder(name))
        peft = container
        logits = { LlamaFixtures.logits(container, $0) }
    } else {
        let loaded = try FixtureModels.load(baseName)
        FixtureModels.module(loaded).eval()
        peft = try loadPEFTModel(FixtureModels.module(loaded), from: ParityFixture.folder(name))
        logits = { FixtureModels.logits(loaded, $0) }
    }
    #expect(peft.trainableParameters.isEmpty)
    var worst: Float = 0
    for parity in fixture.cases {
        let difference = maxDifferenceOverValidPositions(logits(parity).scalars, parity)
        worst = max(worst, difference)
        #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
    }
    let plain = try peft.withAdaptersDisabled { logits(fixture.cases[0]) }
    #expect(maxDifferenceOverValidPositions(plain.scalars, fixture.cases[0]) > 1e-2)
    return (peft, worst)
}

/// Every parameter's bits by path, `.base_layer` taken out so a wrapped weight compares with itself.
func baseParameterBits(_ model: Module) -> [String: [UInt32]] {
    Dictionary(
        uniqueKeysWithValues: model.namedParameters().map {
            (
                $0.path.replacingOccurrences(of: ".base_layer", with: ""),
                $0.parameter.value.scalars.map(\.bitPattern)
            )
        })
}

/// Writes `peft`'s adapter and the logits it gives for `parity` to `$PEFT_EXPORT_DIR/<name>`, for
/// `Scripts/fixtures/check_swift_adapters.py`; does nothing when the variable is unset.
func exportForPython(
    _ peft: any PEFTModelProtocol, name: String, baseModel: String, parity: ParityCase,
    logits: Tensor
) throws {
    guard let root = ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"] else { return }
    let folder = URL(fileURLWithPath: root).appendingPathComponent(name)
    try peft.save(to: folder, adapters: nil)
    let record: [String: Any] = [
        "base_model": baseModel, "input_ids": parity.inputIDs,
        "attention_mask": parity.attentionMask,
        "decoder_input_ids": parity.decoderInputIDs as Any, "logits_shape": logits.shape,
        "logits": logits.scalars.map { Double($0) },
    ]
    try JSONSerialization.data(withJSONObject: record).write(
        to: folder.appendingPathComponent("swift_logits.json"))
}

/// A fixture base (Llama or GPT-2/T5) with its first parity case, for merge tests.
struct MergeSubject {
    let model: any AdaptableModel
    let logits: () -> Tensor

    init(_ name: String) throws {
        let parity = try ParityFixture(name).cases[0]
        if name.hasPrefix("llama") {
            let llama = try LlamaFixtures.load(name)
            model = llama
            logits = { LlamaFixtures.logits(llama, parity) }
        } else {
            let loaded = try FixtureModels.load(name)
            model = FixtureModels.module(loaded)
            loaded.model.eval()
            logits = { FixtureModels.logits(loaded, parity) }
        }
    }

    func apply(_ configuration: some PEFTConfiguration) throws -> any PEFTModelProtocol {
        try makePEFTModel(model, configuration: configuration)
    }

    /// Merging keeps the logits (1e-4), unmerging restores the base weights (1e-5), and merging and
    /// unloading leaves a plain model with the merged logits.
    func expectMergeRoundTrip(_ peft: any PEFTModelProtocol, wrapper: Module.Type) throws {
        let weights = model.namedParameters().map { ($0.parameter, $0.parameter.value.scalars) }
        let unmerged = logits()
        let plain = try peft.withAdaptersDisabled { logits() }
        #expect(maxAbsoluteDifference(unmerged, plain) > 1e-2)
        try peft.merge(adapters: nil, safe: true)
        #expect(maxAbsoluteDifference(logits(), plain) > 1e-2)
        expectClose(logits(), unmerged, tolerance: 1e-4)
        try peft.unmerge()
        expectClose(logits(), unmerged, tolerance: 1e-4)
        for (parameter, original) in weights {
            let restored = parameter.value.scalars
            #expect(zip(restored, original).allSatisfy { abs($0 - $1) <= 1e-5 })
        }
        let merged = try peft.mergeAndUnloadModule(safe: false)
        #expect(!merged.namedModules().contains { type(of: $0.module) == wrapper })
        expectClose(logits(), unmerged, tolerance: 1e-4)
    }
}

/// Adds N(0, `standardDeviation`²) noise to each parameter, so a test adapter is far from its
/// (often identity) initialisation.
func perturb(
    _ parameters: [Parameter], standardDeviation: Float, using generator: inout RandomGenerator
) {
    for parameter in parameters {
        parameter.assign(
            withoutGradients {
                parameter.value
                    + Tensor.normal(
                        parameter.shape, standardDeviation: standardDeviation, using: &generator)
            })
    }
}
