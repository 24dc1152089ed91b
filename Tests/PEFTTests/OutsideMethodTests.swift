import Foundation
// Only the public API: a method defined here is as foreign to the library as one in a user's package.
import PEFT
import PEFTTestSupport
import Testing

/// A frozen random direction shared by every adapted layer, kept beside the model (as VeRA keeps its
/// projections); saved under its own path.
final class SharedDirection: Module {
    @Param(key: "shared_direction") var direction: Tensor

    init(width: Int, seed: UInt64) {
        super.init()
        var generator = RandomGenerator(seed: seed)
        direction = Tensor.normal([width], using: &generator)
    }
}

/// One adapter: a trainable amount of the shared direction added to the layer's output.
final class DirectionAmount: AdapterTensors {
    let amount = Parameter(Tensor.zeros([1]))
    unowned let shared: SharedDirection

    init(shared: SharedDirection) { self.shared = shared }

    var tensors: [(key: String, parameter: Parameter)] { [("direction_amount", amount)] }
}

final class DirectionLinear: Module, LinearLayer, AdapterSetLayer {
    @Child(key: "base_layer") var base: any LinearLayer
    var adapters = AdapterSet<DirectionAmount>()

    init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    var inputFeatures: Int { base.inputFeatures }
    var outputFeatures: Int { base.outputFeatures }
    var baseModule: Module { base }

    override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        adapters.running.reduce(base(x)) { output, entry in
            output + entry.adapter.shared.direction * entry.adapter.amount.value
        }
    }
}

struct DirectionConfiguration: PEFTConfiguration {
    typealias Method = DirectionMethod
    static let peftType = "TEST_DIRECTION"
    var peftType = Self.peftType
    var targets: [String]
    var taskType: String?
    var baseModelNameOrPath: String?

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type"
        case targets = "target_modules"
        case taskType = "task_type"
        case baseModelNameOrPath = "base_model_name_or_path"
    }
}

enum DirectionMethod: PEFTMethod {
    static func apply(_ configuration: inout DirectionConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        let paths = try context.matchModules(.suffixes(configuration.targets)) {
            $0 is any LinearLayer
        }
        let width = try (context.model.module(at: paths[0]) as! any LinearLayer).outputFeatures
        let shared = SharedDirection(
            width: width, seed: context.seed(for: "", purpose: "direction"))
        for path in paths {
            let layer: DirectionLinear
            if let existing = try context.model.module(at: path) as? DirectionLinear {
                layer = existing
            } else {
                layer = DirectionLinear(
                    wrapping: try context.model.module(at: path) as! any LinearLayer)
                try context.model.replaceModule(at: path, with: layer)
            }
            try layer.adapters.add(context.adapterName, DirectionAmount(shared: shared))
        }
        return AdapterAttachment(sharedModule: shared)
    }
}

@Suite("A method defined outside the library")
struct OutsideMethodTests {
    @Test("It trains, saves its shared tensors, loads after registration, and cannot merge")
    func sharedModuleMethod() throws {
        AdapterConfigurationRegistry.register(DirectionConfiguration.self)
        let model = tinyGPT2()
        let before = withoutGradients { model(sampleTokens) }
        let peft = try PEFTModel(model, configuration: DirectionConfiguration(targets: ["c_proj"]))
        // Two layers per block carry `c_proj` (attention and MLP); one scalar each, shared tensor frozen.
        #expect(peft.trainableParameters.map(\.count) == [1, 1, 1, 1])
        #expect(peft.sharedModules["default"]?.parameters.allSatisfy { !$0.isTrainable } == true)
        #expect(
            peft.trainableParameterSummary
                == Module.summaryLine(trainable: 4, total: model.parameterCount + 16))
        expectClose(withoutGradients { peft(sampleTokens) }, before, tolerance: 0)

        let optimizer = AdamW(peft.trainableParameters, learningRate: 0.1, weightDecay: 0)
        for _ in 0..<5 {
            causalLanguageModelingLoss(logits: peft(sampleTokens), labels: sampleTokens).backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        let trained = withoutGradients { peft(sampleTokens) }
        #expect(maxAbsoluteDifference(trained, before) > 1e-3)
        #expect(throws: AdapterError.self) { try peft.merge() }

        let folder = testScratchRoot.appendingPathComponent(
            "peft-direction-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try peft.save(to: folder)
        let file = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent(AdapterFolder.weightsFile))
        #expect(file.tensorNames.contains("shared_direction"))
        #expect(
            file.tensorNames.contains(
                "base_model.model.transformer.h.0.attn.c_proj.direction_amount"))

        let reloaded = try PEFTModel.load(tinyGPT2(), from: folder)
        #expect(withoutGradients { reloaded(sampleTokens) }.scalars == trained.scalars)
        try reloaded.deleteAdapter("default")
        expectClose(withoutGradients { reloaded(sampleTokens) }, before, tolerance: 0)
    }
}
