// Batch-1 greedy decoding speed of one shape, printed as one JSON line so a script can set it beside
// Hugging Face Transformers' `generate` (Benchmarks/Peers/transformers_generate.py, same fields):
//
//     swift run -c release --package-path Benchmarks DecodingBenchmarks <gpt2-small|llama-small> [new-tokens] [repeats]
//
// A prompt of 16 seeded random tokens, then exactly `new-tokens` tokens (no end-of-sequence stop) with
// the key/value cache; each repeat times the whole call, prefill included, and the line reports the
// median. BASE_DTYPE=bf16|int8|nf4 stores the weight matrices in that format. Beside the speed:
// the weight bytes, the machine's read bandwidth, and their ratio, the tokens/s a decoder that reads
// every weight once per token could reach at most.
import BenchmarkSupport
import Foundation
import PEFT

let arguments = Array(CommandLine.arguments.dropFirst())
guard let shapeName = arguments.first, let shape = Shape(rawValue: shapeName),
    shape == .gpt2Small || shape == .llamaSmall
else {
    FileHandle.standardError.write(
        "usage: DecodingBenchmarks <gpt2-small|llama-small> [new-tokens] [repeats]\n".data(
            using: .utf8)!)
    exit(2)
}
let newTokens = arguments.count > 1 ? Int(arguments[1]) ?? 64 : 64
let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let promptLength = 16
let baselineMemory = processMemory("VmRSS")
let baseFormat =
    FrozenWeightFormat(rawValue: ProcessInfo.processInfo.environment["BASE_DTYPE"] ?? "fp32")
    ?? .fp32

let model = withFrozenWeights(baseFormat) { () -> any CausalLanguageModel & Module in
    if shape == .gpt2Small {
        return GPT2LMHeadModel(configuration: shape.gpt2Configuration, seed: 1)
    }
    return LlamaForCausalLM(configuration: shape.llamaConfiguration, seed: 1)
}
model.eval()
let vocabulary =
    shape == .gpt2Small
    ? shape.gpt2Configuration.vocabularySize : shape.llamaConfiguration.vocabularySize
var generator = RandomGenerator(seed: 1234)
let prompt = (0..<promptLength).map { _ in Int(generator.next() % UInt64(vocabulary)) }
var options = GenerationOptions(maximumNewTokens: newTokens)
options.minimumNewTokens = newTokens
options.stopTokenIDs = []

var times: [Double] = []
for repeat_ in 0...repeats {
    let start = ContinuousClock.now
    let tokens = try model.generate(prompt: prompt, options: options)
    let seconds = (ContinuousClock.now - start).seconds
    precondition(tokens.count >= newTokens, "generated \(tokens.count) of \(newTokens) tokens")
    if repeat_ > 0 { times.append(seconds) }  // the first call warms up
}
let peakMemory = processMemory("VmHWM")
// Tied weights are one parameter, counted once.
let weightBytes = model.parameters.reduce(0) { $0 + $1.byteCount }
let bandwidth = measureReadBandwidth()
let seconds = times.median

var line = JSONLine()
line.add("side", "swift")
line.add("shape", shape.rawValue)
line.add("base_dtype", baseFormat.rawValue)
line.add("new_tokens", newTokens)
line.add("prompt_tokens", promptLength)
line.add("repeats", repeats)
line.add("timing", "whole generate call, prefill included")
line.add("seconds", seconds)
line.add("seconds_min", times.min() ?? .nan)
line.add("tokens_per_second", Double(newTokens) / seconds)
line.add("weight_bytes", weightBytes)
line.add("bandwidth_gbs", bandwidth)
line.add("bound_tokens_per_second", bandwidth * 1e9 / Double(weightBytes))
line.add("peak_rss_mb", peakMemory)
line.add("baseline_rss_mb", baselineMemory)
line.add("threads", blasThreadCount)
print(line.text)
