import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// The LoHa or LoKr layers of a model.
func lycorisLayers<Adapter>(_ model: Module, _ adapter: Adapter.Type) -> [(
    path: String, layer: LyCORISLinear<Adapter>
)] {
    model.namedModules().compactMap { path, module in
        (module as? LyCORISLinear<Adapter>).map { (path, $0) }
    }
}

/// Trains `configuration` on the sample tokens with a fresh adapter on the tiny Llama fixture
/// (`nn.Linear` layers) or a random GPT-2 (`Conv1D` layers), and expects the loss to fall by 10%,
/// gradients on adapter tensors only (whose keys contain `marker`), and the base bit-identical.
func expectLyCORISTraining(
    _ configuration: some PEFTConfiguration, on baseModel: String, marker: String,
    learningRate: Float, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let model: any AdaptableModel =
        baseModel == "llama-tiny" ? try LlamaFixtures.load("llama-tiny") : tinyGPT2()
    let before = baseParameterBits(model)
    let peft = try makePEFTModel(model, configuration: configuration)
    let decoder = try #require(peft as? any CausalLanguageModel)
    peft.train(true)
    let optimizer = AdamW(peft.trainableParameters, learningRate: learningRate, weightDecay: 0)
    var losses: [Float] = []
    for step in 0..<30 {
        let loss = causalLanguageModelingLoss(
            logits: decoder.logits(DecoderInputs(tokenIDs: sampleTokens)), labels: sampleTokens)
        losses.append(loss.scalar)
        loss.backward()
        if step == 0 {
            let withGradients = model.namedParameters().filter { $0.parameter.gradient != nil }
            #expect(!withGradients.isEmpty, sourceLocation: sourceLocation)
            for (path, _) in withGradients {
                #expect(
                    path.contains(marker), "\(path) got a gradient", sourceLocation: sourceLocation)
            }
        }
        optimizer.step()
        optimizer.zeroGradients()
    }
    #expect(
        losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)",
        sourceLocation: sourceLocation)
    let after = baseParameterBits(model)
    for (path, bits) in before {
        #expect(after[path] == bits, "\(path) changed", sourceLocation: sourceLocation)
    }
}

/// The keys of the fixture's `adapter_config.json` (what PEFT 0.21 writes) and of `configuration`
/// encoded here.
func configurationKeys(_ configuration: some PEFTConfiguration, fixture: String) throws -> (
    written: Set<String>, peft: Set<String>
) {
    func keys(_ data: Data) throws -> Set<String> {
        Set(try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys)
    }
    let file = ParityFixture.folder(fixture).appendingPathComponent(AdapterFolder.configurationFile)
    return (
        try keys(try AdapterConfigurationFile.encode(configuration)),
        try keys(try Data(contentsOf: file))
    )
}

/// Saves `peft`, reloads the folder onto a fresh `baseModel` and expects the same logits for
/// `parity`; exports the folder for Python as `name`, when given (see ``exportForPython``).
func expectSaveReload(
    _ peft: any PEFTModelProtocol, baseModel: String, parity: ParityCase, name: String?,
    logits: (any PEFTModelProtocol) -> Tensor, reloadedLogits: (URL) throws -> Tensor
) throws {
    let expected = logits(peft)
    let folder = try temporaryDirectory()
    try peft.save(to: folder, adapters: nil)
    expectClose(try reloadedLogits(folder), expected, tolerance: 1e-6)
    if let name {
        try exportForPython(
            peft, name: name, baseModel: baseModel, parity: parity, logits: expected)
    }
}

/// Adds seeded normal noise to every trainable tensor, so no factor is zero.
func perturbTrainable(_ peft: any PEFTModelProtocol, seed: UInt64, standardDeviation: Float) {
    var generator = RandomGenerator(seed: seed)
    perturb(peft.trainableParameters, standardDeviation: standardDeviation, using: &generator)
}

/// Applies `configuration` (perturbed with `seed`) to the GPT-2 or T5 fixture `baseModel` and
/// expects a saved and reloaded copy to give the same logits; exports T5's folder for Python as
/// `t5ExportName` (peft 0.21 refuses these types on GPT-2's Conv1D, so that one is not exported).
func expectFixtureModelSaveReload<C: PEFTConfiguration>(
    _ configuration: C, baseModel: String, seed: UInt64, t5ExportName: String
) throws {
    let parity = try ParityFixture(baseModel).cases[1]
    let loaded = try FixtureModels.load(baseModel)
    FixtureModels.module(loaded).eval()
    var configuration = configuration
    configuration.taskType = baseModel.hasPrefix("t5") ? "SEQ_2_SEQ_LM" : "CAUSAL_LM"
    configuration.baseModelNameOrPath = baseModel
    let peft = try makePEFTModel(FixtureModels.module(loaded), configuration: configuration)
    perturbTrainable(peft, seed: seed, standardDeviation: 0.5)
    try expectSaveReload(
        peft, baseModel: baseModel, parity: parity,
        name: baseModel.hasPrefix("t5") ? t5ExportName : nil,
        logits: { _ in FixtureModels.logits(loaded, parity) },
        reloadedLogits: {
            let reloaded = try FixtureModels.load(baseModel)
            FixtureModels.module(reloaded).eval()
            _ = try loadPEFTModel(FixtureModels.module(reloaded), from: $0)
            return FixtureModels.logits(reloaded, parity)
        })
}

/// Applies `configuration` to the GPT-2 fixture (Conv1D layers) with perturbed factors, merges and
/// unloads it, and expects the unmerged logits; with `PEFT_EXPORT_DIR` set, writes the merged model as
/// a Hugging Face folder `name` with those logits, so `check_swift_adapters.py` checks the merged
/// `[in, out]` layout with `transformers` alone (peft 0.21 cannot load LoHa or LoKr on Conv1D).
func expectMergedGPT2Export(_ configuration: some PEFTConfiguration, name: String) throws {
    let parity = try ParityFixture("gpt2-tiny").cases[1]
    let loaded = try FixtureModels.load("gpt2-tiny")
    let model = try #require(FixtureModels.module(loaded) as? GPT2LMHeadModel)
    model.eval()
    let peft = try makePEFTModel(model, configuration: configuration)
    perturbTrainable(peft, seed: 31, standardDeviation: 0.5)
    let logits = FixtureModels.logits(loaded, parity)
    let plain = try peft.withAdaptersDisabled { FixtureModels.logits(loaded, parity) }
    #expect(maxAbsoluteDifference(logits, plain) > 1e-2)
    _ = try peft.mergeAndUnloadModule(safe: true)
    expectClose(FixtureModels.logits(loaded, parity), logits, tolerance: 1e-4)
    guard let root = ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"] else { return }
    let folder = URL(fileURLWithPath: root).appendingPathComponent(name)
    try model.save(to: folder)
    let record: [String: Any] = [
        "input_ids": parity.inputIDs, "attention_mask": parity.attentionMask,
        "logits_shape": logits.shape, "logits": logits.scalars.map { Double($0) },
    ]
    try JSONSerialization.data(withJSONObject: record).write(
        to: folder.appendingPathComponent("swift_logits.json"))
}
