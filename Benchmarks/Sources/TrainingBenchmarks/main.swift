// Training-step throughput of one (shape, method) configuration, printed as one JSON line so a
// script can set it beside PyTorch + Hugging Face PEFT's (Benchmarks/Peers/pytorch_peft.py).
// Run each configuration in its own process, so the peak resident set is its own:
//
//     swift run -c release --package-path Benchmarks TrainingBenchmarks <shape> <method> [steps] [warm-up]
//
// shape: gpt2-tiny | gpt2-small | t5-small | llama-small; method: lora | dora | ia3 | prompt | prefix |
// adapters | full | frozen (see `Method`). BASE_DTYPE=bf16|int8|nf4 in the environment stores the
// frozen base's weight matrices in that format (methods that keep them frozen);
// GRADIENT_CHECKPOINTING=1 recomputes each decoder block's activations in backward. PROFILE=1 adds
// "profile": seconds per step by op kind (OperationProfiler) over the timed steps, which then run a
// little slower (two clock reads per op).
import BenchmarkSupport
import Foundation
import PEFT

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, let shape = Shape(rawValue: arguments[0]),
    let method = Method(rawValue: arguments[1])
else {
    let shapes = Shape.allCases.map(\.rawValue).joined(separator: "|")
    let methods = Method.allCases.map(\.rawValue).joined(separator: "|")
    FileHandle.standardError.write(
        "usage: TrainingBenchmarks <\(shapes)> <\(methods)> [steps] [warm-up]\n".data(using: .utf8)!
    )
    exit(2)
}
let timedSteps = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let warmUpSteps = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
let baselineMemory = processMemory("VmRSS")

// The model, and a closure that runs its forward pass and loss on batch `step`.
var generator = RandomGenerator(seed: 1234)
func randomTokens(vocabulary: Int, using generator: inout RandomGenerator) -> [[Int]] {
    (0..<shape.batchSize).map { _ in
        (0..<shape.sequenceLength).map { _ in Int(generator.next() % UInt64(vocabulary)) }
    }
}
let environment = ProcessInfo.processInfo.environment
let baseFormat = FrozenWeightFormat(rawValue: environment["BASE_DTYPE"] ?? "fp32") ?? .fp32
precondition(
    baseFormat == .fp32 || ![.full, .frozen].contains(method),
    "BASE_DTYPE needs a method that leaves the base's matrices frozen")

/// What trains and how a step's loss is computed, once the method is applied.
struct Workload {
    var model: Module
    var trainableParameters: [Parameter]
    var totalParameters: Int
    var train: () -> Void
    var loss: (Int) -> Tensor
}

/// Applies `method` to `base`: LoRA, full and frozen change the base in place; the other methods go
/// through a `PEFTModel`, returned so the loss runs through it (prompt and prefix tuning).
func apply(_ method: Method, to base: some Module & AdaptableModel) throws -> (
    any PEFTModelProtocol
)? {
    let targets = TargetModules.suffixes(shape.loraTargets)
    switch method {
    case .lora:
        try base.applyLoRA(rank: 8, alpha: 16, targets: targets)
        return nil
    case .full:
        return nil
    case .frozen:
        // The first layer norm(s) of each stack: gradients must cross every layer to reach them.
        base.freeze()
        base.unfreeze { path in
            [
                "h.0.ln_1.weight", "layers.0.input_layernorm.weight",
                "block.0.layer.0.layer_norm.weight",
            ]
            .contains { path.hasSuffix($0) }
        }
        precondition(base.trainableParameterCount > 0, "frozen: no first layer norm found")
        return nil
    case .dora:
        return try makePEFTModel(
            base,
            configuration: LoRAConfiguration {
                $0.rank = 8
                $0.alpha = 16
                $0.useDoRA = true
                $0.targets = targets
            })
    case .ia3: return try makePEFTModel(base, configuration: IA3Configuration())
    case .prompt:
        return try makePEFTModel(
            base, configuration: PromptTuningConfiguration(virtualTokens: Method.virtualTokens))
    case .prefix:
        return try makePEFTModel(
            base,
            configuration: PrefixTuningConfiguration(
                virtualTokens: Method.virtualTokens, usesProjection: false))
    case .adapters:
        return try makePEFTModel(
            base,
            configuration: BottleneckConfiguration(placement: .houlsby) { $0.reductionFactor = 8 })
    }
}

/// `base` with `method` applied, and its loss on batch `step` through whatever runs it.
func workload<Base: Module & AdaptableModel>(
    _ base: Base, loss: @escaping (_ runner: AnyObject, _ step: Int) -> Tensor
) throws -> Workload {
    let peft = try apply(method, to: base)
    let trainable = peft?.trainableParameters ?? base.trainableParameters
    // Prompt encoders live beside the base, so their parameters are not among the base's.
    let inBase = Set(base.parameters.map(ObjectIdentifier.init))
    let outside = trainable.filter { !inBase.contains(ObjectIdentifier($0)) }
    return Workload(
        model: base, trainableParameters: trainable,
        totalParameters: base.parameterCount + outside.reduce(0) { $0 + $1.count },
        train: { if let peft { peft.train(true) } else { base.train() } },
        loss: { loss(peft ?? base, $0) })
}

let setup = try withFrozenWeights(baseFormat) { () throws -> Workload in
    switch shape {
    case .gpt2Tiny, .gpt2Small, .llamaSmall:
        let decoder: any AdaptableModel & CausalLanguageModel =
            shape == .llamaSmall
            ? LlamaForCausalLM(configuration: shape.llamaConfiguration, seed: 1)
            : GPT2LMHeadModel(configuration: shape.gpt2Configuration, seed: 1)
        let vocabulary =
            shape == .llamaSmall
            ? shape.llamaConfiguration.vocabularySize : shape.gpt2Configuration.vocabularySize
        let batches = (0..<warmUpSteps + timedSteps).map { _ in
            randomTokens(vocabulary: vocabulary, using: &generator)
        }
        if environment["GRADIENT_CHECKPOINTING"] != nil { decoder.useGradientCheckpointing() }
        return try workload(decoder) { runner, step in
            (runner as! any CausalLanguageModel).languageModelingLoss(
                DecoderInputs(tokenIDs: batches[step]), labels: batches[step])
        }
    case .t5Small:
        let t5 = T5ForConditionalGeneration(configuration: shape.t5Configuration, seed: 1)
        let vocabulary = t5.configuration.vocabularySize
        let batches = (0..<warmUpSteps + timedSteps).map { _ in
            (
                inputs: randomTokens(vocabulary: vocabulary, using: &generator),
                decoderInputs: randomTokens(vocabulary: vocabulary, using: &generator),
                labels: randomTokens(vocabulary: vocabulary, using: &generator)
            )
        }
        return try workload(t5) { runner, step in
            let batch = batches[step]
            let model = runner as! any Seq2SeqLanguageModel
            let encoded = model.encode(DecoderInputs(tokenIDs: batch.inputs))
            let logits = model.decode(
                DecoderInputs(tokenIDs: batch.decoderInputs), encoderOutput: encoded,
                encoderMask: nil)
            return crossEntropy(logits: logits, targets: batch.labels.flatMap { $0 })
        }
    }
}
let model = setup.model
let loss = setup.loss
setup.train()
let optimizer = AdamW(setup.trainableParameters, learningRate: 1e-4, weightDecay: 0.01)

// The training loop, with a clock around each phase.
var forwardTimes: [Double] = []
var backwardTimes: [Double] = []
var optimizerTimes: [Double] = []
var stepTimes: [Double] = []
var lastLoss: Float = .nan
// TRAINING_BENCHMARKS_MEMORY=1 prints the resident set after each phase to standard error.
let tracesMemory = ProcessInfo.processInfo.environment["TRAINING_BENCHMARKS_MEMORY"] != nil
func traceMemory(_ step: Int, _ phase: String) {
    guard tracesMemory else { return }
    let line = String(
        format: "step %d %@: VmRSS %.0f MiB, VmHWM %.0f MiB\n", step, phase,
        processMemory("VmRSS"), processMemory("VmHWM"))
    FileHandle.standardError.write(line.data(using: .utf8)!)
}
traceMemory(-1, "model built")
let profiles = environment["PROFILE"] != nil
for step in 0..<warmUpSteps + timedSteps {
    if profiles && step == warmUpSteps { OperationProfiler.start() }
    let start = ContinuousClock.now
    let value = loss(step)
    let forwardDone = ContinuousClock.now
    traceMemory(step, "forward")
    value.backward()
    let backwardDone = ContinuousClock.now
    traceMemory(step, "backward")
    optimizer.step()
    optimizer.zeroGradients()
    TensorMemoryPool.trim()
    let end = ContinuousClock.now
    traceMemory(step, "optimizer")
    lastLoss = value.scalar
    if step >= warmUpSteps {
        forwardTimes.append((forwardDone - start).seconds)
        backwardTimes.append((backwardDone - forwardDone).seconds)
        optimizerTimes.append((end - backwardDone).seconds)
        stepTimes.append((end - start).seconds)
    }
}
let profile = profiles ? OperationProfiler.stop() : nil
// Read the peak before the GEMM probe, whose three 16 MiB matrices are not part of training.
let peakMemory = processMemory("VmHWM")
let sgemm = measureSGEMM()

let secondsPerStep = stepTimes.median
let flops = StepFLOPs(shape: shape, method: method)
var line = JSONLine()
line.add("side", "swift")
line.add("shape", shape.rawValue)
line.add("method", method.rawValue)
line.add("base_dtype", baseFormat.rawValue)
line.add("gradient_checkpointing", environment["GRADIENT_CHECKPOINTING"] != nil ? 1 : 0)
line.add("batch", shape.batchSize)
line.add("sequence_length", shape.sequenceLength)
line.add("tokens_per_step", shape.tokensPerStep)
line.add("parameters", setup.totalParameters)
line.add("trainable_parameters", setup.trainableParameters.reduce(0) { $0 + $1.count })
line.add("virtual_tokens", method == .prompt || method == .prefix ? Method.virtualTokens : 0)
line.add("warmup_steps", warmUpSteps)
line.add("timed_steps", timedSteps)
line.add("seconds_per_step", secondsPerStep)
line.add("seconds_per_step_min", stepTimes.min() ?? .nan)
line.add("tokens_per_second", Double(shape.tokensPerStep) / secondsPerStep)
line.add("forward_seconds", forwardTimes.median)
line.add("backward_seconds", backwardTimes.median)
line.add("optimizer_seconds", optimizerTimes.median)
line.add("peak_rss_mb", peakMemory)
line.add("baseline_rss_mb", baselineMemory)
line.add("step_gflop", flops.total / 1e9)
line.add("attention_gflop", flops.attention / 1e9)
line.add("achieved_gflops", flops.total / secondsPerStep / 1e9)
line.add("sgemm_gflops", sgemm)
line.add("mfu", flops.total / secondsPerStep / 1e9 / sgemm)
line.add("final_loss", Double(lastLoss))
line.add("threads", blasThreadCount)
line.add("blas", "OpenBLAS")
if let profile {
    // Seconds per step by kind, largest first.
    let kinds = profile.seconds.sorted { $0.value > $1.value }
    line.add("profile", kinds.map { (key: $0.key.rawValue, value: $0.value / Double(timedSteps)) })
}
print(line.text)
