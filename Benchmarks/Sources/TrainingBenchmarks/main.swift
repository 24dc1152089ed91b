// Training-step throughput of one (shape, method) configuration, printed as one JSON line so a
// script can set it beside PyTorch + Hugging Face PEFT's (Benchmarks/Peers/pytorch_peft.py).
// Run each configuration in its own process, so the peak resident set is its own:
//
//     swift run -c release --package-path Benchmarks TrainingBenchmarks <shape> <method> [steps] [warm-up]
//
// shape: gpt2-tiny | gpt2-small | t5-small | llama-small; method: lora | full. BASE_DTYPE=bf16|int8|nf4
// in the environment stores the frozen base's weight matrices in that format (LoRA only);
// GRADIENT_CHECKPOINTING=1 recomputes each decoder block's activations in backward.
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
precondition(baseFormat == .fp32 || method == .lora, "BASE_DTYPE needs the lora method")
let (model, loss) = withFrozenWeights(baseFormat) { () -> (Module, (Int) -> Tensor) in
    switch shape {
    case .gpt2Tiny, .gpt2Small:
        let gpt2 = GPT2LMHeadModel(configuration: shape.gpt2Configuration, seed: 1)
        let batches = (0..<warmUpSteps + timedSteps).map { _ in
            randomTokens(vocabulary: gpt2.configuration.vocabularySize, using: &generator)
        }
        return (
            gpt2,
            { step in
                gpt2.languageModelingLoss(
                    DecoderInputs(tokenIDs: batches[step]), labels: batches[step])
            }
        )
    case .llamaSmall:
        let llama = LlamaForCausalLM(configuration: shape.llamaConfiguration, seed: 1)
        let batches = (0..<warmUpSteps + timedSteps).map { _ in
            randomTokens(vocabulary: llama.configuration.vocabularySize, using: &generator)
        }
        return (
            llama,
            { step in
                llama.languageModelingLoss(
                    DecoderInputs(tokenIDs: batches[step]), labels: batches[step])
            }
        )
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
        return (
            t5,
            { step in
                let batch = batches[step]
                let logits = t5(inputIDs: batch.inputs, decoderInputIDs: batch.decoderInputs)
                return crossEntropy(logits: logits, targets: batch.labels.flatMap { $0 })
            }
        )
    }
}
if environment["GRADIENT_CHECKPOINTING"] != nil { model.useGradientCheckpointing() }
if method == .lora {
    try model.applyLoRA(rank: 8, alpha: 16, targets: .suffixes(shape.loraTargets))
}
model.train()
let optimizer = AdamW(model.trainableParameters, learningRate: 1e-4, weightDecay: 0.01)

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
for step in 0..<warmUpSteps + timedSteps {
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
line.add("parameters", model.parameterCount)
line.add("trainable_parameters", model.trainableParameterCount)
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
print(line.text)
