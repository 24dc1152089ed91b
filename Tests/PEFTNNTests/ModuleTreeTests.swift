import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

/// A small two-level model written the way a user would write one.
final class TinyBlock: Module {
    @Child(key: "proj") var projection: any LinearLayer
    @Child(key: "norm") var norm: LayerNorm
    @Child(key: "drop") var drop: Dropout

    init(width: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        super.init()
        projection = Linear(inputFeatures: width, outputFeatures: width, using: &generator)
        norm = LayerNorm(dimension: width)
        drop = Dropout(probability: 0.5, seed: seed)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { drop(norm(projection(x))) }
}

final class TinyModel: Module {
    @Child(key: "embed") var embedding: Embedding
    @Children(key: "layers") var blocks: [TinyBlock]
    @Child(key: "head") var head: Linear

    init(seed: UInt64 = 1) {
        var generator = RandomGenerator(seed: seed)
        super.init()
        embedding = Embedding(count: 10, dimension: 4, using: &generator)
        blocks = [TinyBlock(width: 4, seed: 2), TinyBlock(width: 4, seed: 3)]
        head = Linear(inputFeatures: 4, outputFeatures: 10, bias: false, using: &generator)
    }

    func callAsFunction(_ ids: [Int]) -> Tensor {
        head(blocks.reduce(embedding(ids, shape: [1, ids.count])) { $1($0) })
    }
}

/// A module of another kind that fits a `LinearLayer` slot.
final class ScaledLinear: Module, LinearLayer {
    @Child(key: "base_layer") var base: any LinearLayer
    init(_ base: any LinearLayer) {
        super.init()
        self.base = base
    }
    var inputFeatures: Int { base.inputFeatures }
    var outputFeatures: Int { base.outputFeatures }
    func callAsFunction(_ x: Tensor) -> Tensor { base(x) * 2 }
}

@Suite("Module tree")
struct ModuleTreeTests {
    @Test("Parameter paths follow the declared keys, in declaration order")
    func parameterPaths() {
        let model = TinyModel()
        #expect(
            model.namedParameters().map(\.path) == [
                "embed.weight", "layers.0.proj.weight", "layers.0.proj.bias",
                "layers.0.norm.weight",
                "layers.0.norm.bias", "layers.1.proj.weight", "layers.1.proj.bias",
                "layers.1.norm.weight",
                "layers.1.norm.bias", "head.weight",
            ])
        #expect(model.parameterCount == 40 + 2 * (16 + 4 + 4 + 4) + 40)
        #expect(model.namedModules().map(\.path).contains("layers.1.drop"))
    }

    @Test("A nested submodule is replaced by path, and the new one's parameters appear under it")
    func replacement() throws {
        let model = TinyModel()
        let original = try model.module(at: "layers.1.proj") as! Linear
        try model.replaceModule(at: "layers.1.proj", with: ScaledLinear(original))
        #expect(model.blocks[1].projection is ScaledLinear)
        #expect(model.namedParameters().map(\.path).contains("layers.1.proj.base_layer.weight"))
        #expect(model.blocks[0].projection is Linear)
        // A whole block in a list slot can be replaced too.
        try model.replaceModule(at: "layers.0", with: TinyBlock(width: 4, seed: 9))
        #expect(model.blocks[0].projection is Linear)
    }

    @Test(
        "Replacing with a module the slot cannot hold, or at a missing path, throws a typed error")
    func replacementErrors() {
        let model = TinyModel()
        #expect(
            throws: ModuleTreeError.incompatibleReplacement(
                path: "layers.0.norm", slot: "LayerNorm", found: "Dropout")
        ) {
            try model.replaceModule(at: "layers.0.norm", with: Dropout(probability: 0.1))
        }
        #expect {
            try model.replaceModule(at: "layers.7.proj", with: Dropout(probability: 0.1))
        } throws: { error in
            guard case ModuleTreeError.moduleNotFound(let path, let candidates) = error else {
                return false
            }
            return path == "layers.7.proj" && candidates.contains("layers.0")
        }
        #expect(throws: ModuleTreeError.self) { try model.module(at: "head.nothing") }
    }

    @Test("Freezing by pattern and unfreezing change the trainable counts")
    func freezing() throws {
        let model = TinyModel()
        #expect(model.trainableParameterCount == model.parameterCount)
        model.freeze()
        #expect(model.trainableParameterCount == 0)
        #expect(model.trainableParameters.isEmpty)
        try model.unfreeze(matching: #"layers\.\d+\.proj\.bias"#)
        #expect(model.trainableParameterCount == 8)
        model.unfreeze { $0.hasPrefix("head.") }
        #expect(model.trainableParameterCount == 48)
        try model.freeze(matching: "head\\..*")
        #expect(model.trainableParameterCount == 8)
        #expect(throws: ModuleTreeError.invalidPattern("(")) { try model.freeze(matching: "(") }
    }

    @Test("A frozen parameter receives no gradient in backward")
    func frozenGetsNoGradient() {
        let model = TinyModel()
        model.eval()
        model.freeze { !$0.hasPrefix("head.") }
        crossEntropy(logits: model([1, 2, 3]).reshaped(to: [3, 10]), targets: [2, 3, 4]).backward()
        for (path, parameter) in model.namedParameters() {
            #expect((parameter.gradient != nil) == path.hasPrefix("head."), "\(path)")
        }
    }

    @Test("Eval mode reaches every dropout and turns it off")
    func trainEval() {
        let model = TinyModel()
        let ids = [1, 2, 3, 4]
        #expect(model.namedModules().allSatisfy { $0.module.isTraining })
        #expect(model(ids).scalars != model(ids).scalars)  // dropout draws a new mask each call
        model.eval()
        #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
        #expect(model(ids).scalars == model(ids).scalars)
        model.train()
        #expect(model.blocks[1].drop.isTraining)
    }

    @Test("Reseeding a model's dropouts gives each layer its own masks, and replays them")
    func reseedDropouts() {
        let model = TinyModel()
        model.blocks = [TinyBlock(width: 4, seed: 2), TinyBlock(width: 4, seed: 2)]
        let x = Tensor.ones([1, 64])
        func masks() -> [[Float]] { model.blocks.map { $0.drop(x).scalars } }
        let built = masks()
        #expect(built[0] == built[1])  // built alike, seeded alike
        model.reseedDropouts(seed: 5)
        let first = masks()
        #expect(first[0] != first[1])
        model.reseedDropouts(seed: 5)
        #expect(masks() == first)
        model.reseedDropouts(seed: 6)
        let other = masks()
        #expect(other[0] != first[0] && other[1] != first[1])
    }

    @Test("The summary line uses Hugging Face PEFT's format")
    func summary() {
        let model = TinyModel()
        model.freeze { !$0.hasPrefix("head.") }
        #expect(
            model.trainableParameterSummary
                == "trainable params: 40 || all params: 136 || trainable%: 29.4118")
    }

    @Test("A shared parameter appears once")
    func sharedParameter() {
        let model = TinyModel()
        model.head.$weight = model.embedding.$weight
        #expect(model.namedParameters().count == 9)
        #expect(!model.namedParameters().map(\.path).contains("head.weight"))
    }
}
