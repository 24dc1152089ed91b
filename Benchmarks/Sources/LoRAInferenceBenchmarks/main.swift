// Generation speed of a GPT-2-small-shaped model: the base, with an unmerged LoRA adapter, and with
// the adapter merged. Users of Hugging Face PEFT report 45% to 2x slower generation unmerged; here
// the unmerged adapter is one fused node per wrapped layer, and this measures what it costs.
//
//     swift run -c release --package-path Benchmarks LoRAInferenceBenchmarks [new-tokens] [repetitions]
//
// BASE_DTYPE=bf16|int8|nf4 stores the base's weight matrices in that format (no merged variant then:
// a merge would round the base again).
import Foundation
import PEFT

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let newTokens = arguments.first ?? 64
let repetitions = arguments.count > 1 ? arguments[1] : 5
let promptLength = 32

let configuration = GPT2Configuration()  // 12 layers, 768 wide, 12 heads, vocabulary 50257
print("Building a GPT-2-small-shaped model with random weights …")
let baseFormat =
    FrozenWeightFormat(rawValue: ProcessInfo.processInfo.environment["BASE_DTYPE"] ?? "fp32")
    ?? .fp32
let model = withFrozenWeights(baseFormat) { GPT2LMHeadModel(configuration: configuration, seed: 1) }
let weightBytes = model.parameters.reduce(0) { $0 + $1.byteCount }
print("Base weights stored as \(baseFormat.rawValue): \(weightBytes / 1_000_000) MB")
model.eval()
let prompt = (0..<promptLength).map { ($0 * 7919) % configuration.vocabularySize }
var options = GenerationOptions(maximumNewTokens: newTokens)
options.stopTokenIDs = []

/// Tokens per second of one generation.
@MainActor
func generationRate() throws -> Double {
    let start = ContinuousClock.now
    let tokens = try model.generate(prompt: prompt, options: options)
    let (seconds, attoseconds) = (ContinuousClock.now - start).components
    return Double(tokens.count) / (Double(seconds) + Double(attoseconds) * 1e-18)
}

let peft = try model.applyLoRA(rank: 8, alpha: 16)
var generator = RandomGenerator(seed: 2)
for parameter in peft.trainableParameters {
    parameter.assign(Tensor.normal(parameter.shape, standardDeviation: 0.02, using: &generator))
}
// The three variants take turns in every round, so load from elsewhere on the machine hits them alike.
var rates: [String: [Double]] = ["base": [], "unmerged": [], "merged": []]
print(
    "Greedy generation, prompt \(promptLength) tokens, \(newTokens) new tokens, \(repetitions) rounds:"
)
for round in 0...repetitions {
    let base = try peft.withAdaptersDisabled { try generationRate() }
    let unmerged = try generationRate()
    var merged = Double.nan
    if baseFormat == .fp32 {
        try peft.merge()
        merged = try generationRate()
        try peft.unmerge()
    }
    guard round > 0 else { continue }  // the first round warms up
    rates["base"]!.append(base)
    rates["unmerged"]!.append(unmerged)
    rates["merged"]!.append(merged)
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let (base, unmerged, merged) = (
    median(rates["base"]!), median(rates["unmerged"]!), median(rates["merged"]!)
)
print("")
print("| variant | tokens/s (median) | vs base |")
print("|---|---:|---:|")
print("| base | \(String(format: "%.1f", base)) | 1.000 |")
print(
    "| LoRA r=8 on c_attn, unmerged | \(String(format: "%.1f", unmerged)) | \(String(format: "%.3f", unmerged / base)) |"
)
print(
    "| LoRA r=8 on c_attn, merged | \(String(format: "%.1f", merged)) | \(String(format: "%.3f", merged / base)) |"
)
print(
    "Unmerged: \(String(format: "%.1f", (base / unmerged - 1) * 100))% more time per token than the base."
)
