import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor
import PEFTTestSupport
import Testing

/// `optimizers.json`, written by `Scripts/fixtures/make_optimizer_fixtures.py` with PyTorch and
/// `transformers`.
struct OptimizerFixture: Decodable {
    /// A tensor as the fixture stores it.
    struct Values: Decodable {
        let shape: [Int]
        let data: [Float]
    }

    /// One optimizer's parameters after each of the six steps.
    struct Run: Decodable {
        let name: String
        let paramsAfterStep: [[Values]]

        enum CodingKeys: String, CodingKey {
            case name
            case paramsAfterStep = "params_after_step"
        }
    }

    /// One call of `clip_grad_norm_`.
    struct ClipCase: Decodable {
        let name: String
        let maxNorm: Float
        let grads: [Values]
        let totalNorm: Float
        let clippedGrads: [Values]

        enum CodingKeys: String, CodingKey {
            case name, grads
            case maxNorm = "max_norm"
            case totalNorm = "total_norm"
            case clippedGrads = "clipped_grads"
        }
    }

    /// One `transformers` schedule's learning rates for steps 0...20 with a base rate of 1.
    struct Schedule: Decodable {
        let warmupSteps: Int?
        let totalSteps: Int?
        let cycles: Double?
        let lr: [Double]

        enum CodingKeys: String, CodingKey {
            case lr
            case warmupSteps = "num_warmup_steps"
            case totalSteps = "num_training_steps"
            case cycles = "num_cycles"
        }
    }

    /// The three schedules over the same steps.
    struct Schedules: Decodable {
        let steps: [Int]
        let constant: Schedule
        let linearWarmup: Schedule
        let cosineWarmup: Schedule

        enum CodingKeys: String, CodingKey {
            case steps, constant
            case linearWarmup = "linear_warmup"
            case cosineWarmup = "cosine_warmup"
        }
    }

    let initialParams: [Values]
    let grads: [[Values]]
    let optimizers: [Run]
    let clipGradNorm: [ClipCase]
    let schedules: Schedules

    enum CodingKeys: String, CodingKey {
        case grads, optimizers, schedules
        case initialParams = "initial_params"
        case clipGradNorm = "clip_grad_norm"
    }

    /// The fixture, read once; a missing or malformed file stops the suite with a message naming
    /// it, since every test here depends on it.
    static let shared: OptimizerFixture = {
        let url = Fixtures.url("optimizers.json")
        do {
            return try JSONDecoder().decode(OptimizerFixture.self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure(
                "\(url.path) could not be read (\(error)); regenerate it with Scripts/fixtures/make_optimizer_fixtures.py"
            )
        }
    }()

    /// The run of the optimizer called `name` in the fixture.
    static func run(_ name: String) -> Run {
        shared.optimizers.first { $0.name == name }!
    }
}

extension OptimizerFixture.Values {
    /// The values as a tensor.
    var tensor: Tensor { Tensor(shape: shape, scalars: data) }
}

/// Fresh trainable parameters holding the fixture's initial values.
func fixtureParameters() -> [Parameter] {
    OptimizerFixture.shared.initialParams.map { Parameter($0.tensor) }
}

/// Sets each parameter's gradient to exactly `gradients[i]`: the gradient of `Σ p ⊙ g` is `g`.
func setGradients(_ parameters: [Parameter], to gradients: [Tensor]) {
    for (parameter, gradient) in zip(parameters, gradients) {
        parameter.zeroGradient()
        (parameter.value * gradient).sum().backward()
    }
}

/// The optimizer the fixture calls `name`, with the fixture's hyperparameters.
func fixtureOptimizer(_ name: String, for parameters: [Parameter]) -> any Optimizer {
    switch name {
    case "SGD": SGD(parameters, learningRate: 0.1, momentum: 0.9)
    case "Adam": Adam(parameters, learningRate: 1e-2, weightDecay: 0.01)
    case "AdamW": AdamW(parameters, learningRate: 1e-2, weightDecay: 0.1)
    default: preconditionFailure("no optimizer named \(name)")
    }
}

/// Runs fixture steps `steps` of `optimizer` on `parameters`.
func runFixtureSteps(_ steps: Range<Int>, _ optimizer: any Optimizer, _ parameters: [Parameter]) {
    for step in steps {
        setGradients(parameters, to: OptimizerFixture.shared.grads[step].map(\.tensor))
        optimizer.step()
        optimizer.zeroGradients()
    }
}

/// Expects `|actual − expected| ≤ 1e-6 + 1e-5·|expected|` elementwise.
func expectMatchesReference(
    _ actual: [Float], _ expected: [Float], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (index, (value, reference)) in zip(actual, expected).enumerated() {
        let difference = abs(value - reference)
        #expect(
            difference <= 1e-6 + 1e-5 * abs(reference),
            "element \(index): \(value) vs PyTorch \(reference), |Δ| = \(difference)",
            sourceLocation: sourceLocation)
    }
}

/// A fresh temporary file URL ending in `.safetensors`.
func temporaryStateURL() -> URL {
    testScratchRoot
        .appendingPathComponent("peft-optimizer-\(UUID().uuidString).safetensors")
}

struct OptimizerTests {
    @Test(
        "Each optimizer reproduces PyTorch's parameters after every step",
        arguments: ["SGD", "Adam", "AdamW"])
    func matchesPyTorch(name: String) {
        let parameters = fixtureParameters()
        let optimizer = fixtureOptimizer(name, for: parameters)
        for (step, expected) in OptimizerFixture.run(name).paramsAfterStep.enumerated() {
            runFixtureSteps(step..<(step + 1), optimizer, parameters)
            for (parameter, reference) in zip(parameters, expected) {
                #expect(parameter.shape == reference.shape)
                expectMatchesReference(parameter.value.scalars, reference.data)
            }
        }
        #expect(optimizer.stepCount == 6)
    }

    @Test(
        "A frozen parameter gets no state and keeps its value",
        arguments: ["SGD", "Adam", "AdamW"])
    func frozenParameterUntouched(name: String) {
        let trainable = fixtureParameters()
        let frozen = Parameter(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), trainable: false)
        let optimizer = fixtureOptimizer(name, for: [trainable[0], frozen, trainable[1]])
        #expect(optimizer.parameters.count == 2)
        #expect(!optimizer.parameters.contains { $0 === frozen })
        runFixtureSteps(0..<3, optimizer, trainable)
        #expect(!optimizer.hasState(for: frozen))
        #expect(frozen.value.scalars == [1, 2, 3, 4])
        let elementsPerValue = name == "SGD" ? 1 : 2
        #expect(optimizer.stateElementCount == elementsPerValue * (12 + 5))
    }

    @Test("State appears at a parameter's first gradient, and a step without one skips it")
    func stateIsLazy() {
        let parameters = fixtureParameters()
        let optimizer = AdamW(parameters, learningRate: 1e-2)
        #expect(optimizer.stateElementCount == 0)
        let before = parameters[1].value.scalars
        setGradients([parameters[0]], to: [OptimizerFixture.shared.grads[0][0].tensor])
        optimizer.step()
        #expect(optimizer.hasState(for: parameters[0]))
        #expect(!optimizer.hasState(for: parameters[1]))
        #expect(optimizer.stateElementCount == 2 * 12)
        #expect(parameters[1].value.scalars == before)
    }

    @Test("Gradients of two half batches with the loss halved give the full batch's AdamW step")
    func gradientAccumulationMatchesFullBatch() {
        var generator = RandomGenerator(seed: 3)
        let inputs = Tensor.normal([4, 3], using: &generator).scalars
        let targets = Tensor.normal([4, 2], using: &generator).scalars
        let weight = Tensor.normal([2, 3], using: &generator)
        let bias = Tensor.normal([2], using: &generator)

        func meanSquaredError(_ parameters: [Parameter], rows: Range<Int>) -> Tensor {
            let x = Tensor(
                shape: [rows.count, 3],
                scalars: Array(inputs[(rows.lowerBound * 3)..<(rows.upperBound * 3)]))
            let y = Tensor(
                shape: [rows.count, 2],
                scalars: Array(targets[(rows.lowerBound * 2)..<(rows.upperBound * 2)]))
            let error = linear(x, weight: parameters[0].value, bias: parameters[1].value) - y
            return (error * error).sum() / Float(rows.count)
        }

        let full = [Parameter(weight.copied()), Parameter(bias.copied())]
        let accumulated = [Parameter(weight.copied()), Parameter(bias.copied())]
        let fullOptimizer = AdamW(full, learningRate: 1e-2)
        let accumulatingOptimizer = AdamW(accumulated, learningRate: 1e-2)
        for _ in 0..<3 {
            meanSquaredError(full, rows: 0..<4).backward()
            fullOptimizer.step()
            fullOptimizer.zeroGradients()
            for rows in [0..<2, 2..<4] {
                (meanSquaredError(accumulated, rows: rows) / 2).backward()
            }
            accumulatingOptimizer.step()
            accumulatingOptimizer.zeroGradients()
        }
        for (lhs, rhs) in zip(full, accumulated) {
            expectClose(lhs.value, rhs.value, tolerance: 1e-6)
        }
    }
}

struct OptimizerStateFileTests {
    /// Parameter names for the fixture's two tensors.
    static let names = ["layer.weight", "layer.bias"]

    @Test(
        "Saving after three steps and loading into a fresh optimizer resumes bit for bit",
        arguments: ["SGD", "Adam", "AdamW"])
    func resumeIsExact(name: String) throws {
        let uninterrupted = fixtureParameters()
        let uninterruptedOptimizer = fixtureOptimizer(name, for: uninterrupted)
        runFixtureSteps(0..<6, uninterruptedOptimizer, uninterrupted)

        let first = fixtureParameters()
        let firstOptimizer = fixtureOptimizer(name, for: first)
        runFixtureSteps(0..<3, firstOptimizer, first)
        let url = temporaryStateURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try firstOptimizer.saveState(to: url, parameterNames: Self.names)

        let resumed = first.map { Parameter($0.value.copied()) }
        let resumedOptimizer: any Optimizer =
            switch name {
            case "SGD": SGD(resumed, learningRate: 1, momentum: 0.5)
            case "Adam": Adam(resumed)
            default: AdamW(resumed)
            }
        try resumedOptimizer.loadState(from: url, parameterNames: Self.names)
        #expect(resumedOptimizer.stepCount == 3)
        #expect(resumedOptimizer.learningRate == firstOptimizer.learningRate)
        #expect(resumedOptimizer.stateElementCount == firstOptimizer.stateElementCount)
        runFixtureSteps(3..<6, resumedOptimizer, resumed)
        #expect(resumedOptimizer.stepCount == 6)
        for (lhs, rhs) in zip(resumed, uninterrupted) {
            #expect(lhs.value.scalars == rhs.value.scalars)
        }
    }

    @Test("The state file stores PyTorch's state names and the hyperparameters")
    func fileLayout() throws {
        let parameters = fixtureParameters()
        let optimizer = AdamW(parameters, learningRate: 1e-2, weightDecay: 0.1)
        runFixtureSteps(0..<2, optimizer, parameters)
        let url = temporaryStateURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try optimizer.saveState(to: url, parameterNames: Self.names)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(
            Set(file.tensorNames)
                == [
                    "layer.weight.exp_avg", "layer.weight.exp_avg_sq", "layer.weight.step",
                    "layer.bias.exp_avg", "layer.bias.exp_avg_sq", "layer.bias.step",
                ])
        #expect(file.info("layer.weight.exp_avg")?.shape == [3, 4])
        #expect(try file.floats("layer.bias.step") == [2])
        #expect(file.metadata["optimizer"] == "AdamW")
        #expect(file.metadata["step_count"] == "2")
        #expect(file.metadata["lr"] == "0.01")
        #expect(file.metadata["weight_decay"] == "0.1")
    }

    /// Saves AdamW's state after two fixture steps and returns a copy of the file whose tensors
    /// (by name) `edit` and metadata `editMetadata` have changed.
    func editedStateFile(
        _ edit: (inout [String: OptimizerFixture.Values]) -> Void = { _ in },
        metadata editMetadata: (inout [String: String]) -> Void = { _ in }
    ) throws -> URL {
        let parameters = fixtureParameters()
        let optimizer = AdamW(parameters, learningRate: 1e-2)
        runFixtureSteps(0..<2, optimizer, parameters)
        let saved = temporaryStateURL()
        defer { try? FileManager.default.removeItem(at: saved) }
        try optimizer.saveState(to: saved, parameterNames: Self.names)
        let file = try SafeTensorsFile(contentsOf: saved)
        var tensors: [String: OptimizerFixture.Values] = [:]
        for name in file.tensorNames {
            tensors[name] = .init(shape: file.info(name)!.shape, data: try file.floats(name))
        }
        edit(&tensors)
        var metadata = file.metadata
        editMetadata(&metadata)
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors {
            try writer.add(name, shape: tensor.shape, values: tensor.data)
        }
        let edited = temporaryStateURL()
        try writer.write(to: edited)
        return edited
    }

    @Test("Loading a moment of the wrong shape throws shapeMismatch and changes nothing")
    func shapeMismatch() throws {
        let url = try editedStateFile { tensors in
            tensors["layer.weight.exp_avg"] = .init(
                shape: [4, 3], data: Array(repeating: 0, count: 12))
        }
        defer { try? FileManager.default.removeItem(at: url) }
        let optimizer = AdamW(fixtureParameters())
        #expect(
            throws: OptimizerStateError.shapeMismatch(
                file: url.path, key: "layer.weight.exp_avg", expected: [3, 4], found: [4, 3])
        ) {
            try optimizer.loadState(from: url, parameterNames: Self.names)
        }
        #expect(optimizer.stateElementCount == 0)
        #expect(optimizer.stepCount == 0)
    }

    @Test("Hyperparameters load as saved, and one out of range throws invalidValue")
    func hyperparameterRange() throws {
        let saved = try editedStateFile()
        defer { try? FileManager.default.removeItem(at: saved) }
        let optimizer = AdamW(fixtureParameters(), learningRate: 0, beta2: 0.5)
        try optimizer.loadState(from: saved, parameterNames: Self.names)
        #expect(
            optimizer.hyperparameters == AdamHyperparameters(learningRate: 1e-2, weightDecay: 1e-2))

        let url = try editedStateFile(metadata: { $0["beta2"] = "1.5" })
        defer { try? FileManager.default.removeItem(at: url) }
        let fresh = AdamW(fixtureParameters())
        #expect(
            throws: OptimizerStateError.invalidValue(file: url.path, key: "beta2", value: "1.5")
        ) {
            try fresh.loadState(from: url, parameterNames: Self.names)
        }
        #expect(fresh.stateElementCount == 0)
    }

    @Test("Loading a file that lacks one of a parameter's moments throws missingKey")
    func missingKey() throws {
        let url = try editedStateFile { $0["layer.bias.exp_avg_sq"] = nil }
        defer { try? FileManager.default.removeItem(at: url) }
        let optimizer = AdamW(fixtureParameters())
        #expect(
            throws: OptimizerStateError.missingKey(file: url.path, key: "layer.bias.exp_avg_sq")
        ) {
            try optimizer.loadState(from: url, parameterNames: Self.names)
        }
    }

    @Test("Loading under other parameter names throws unexpectedKey for the first stray tensor")
    func unexpectedKey() throws {
        let url = try editedStateFile { _ in }
        defer { try? FileManager.default.removeItem(at: url) }
        let optimizer = AdamW(fixtureParameters())
        #expect(
            throws: OptimizerStateError.unexpectedKey(file: url.path, key: "layer.weight.exp_avg")
        ) {
            try optimizer.loadState(from: url, parameterNames: ["renamed.weight", "layer.bias"])
        }
    }

    @Test("Loading another optimizer's state throws wrongOptimizer")
    func wrongOptimizer() throws {
        let parameters = fixtureParameters()
        let sgd = SGD(parameters, learningRate: 0.1, momentum: 0.9)
        runFixtureSteps(0..<1, sgd, parameters)
        let url = temporaryStateURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try sgd.saveState(to: url, parameterNames: Self.names)
        let adam = Adam(fixtureParameters())
        #expect(
            throws: OptimizerStateError.wrongOptimizer(
                file: url.path, expected: "Adam", found: "SGD")
        ) {
            try adam.loadState(from: url, parameterNames: Self.names)
        }
    }
}
