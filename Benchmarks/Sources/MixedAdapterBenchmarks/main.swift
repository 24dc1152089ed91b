// Serving several adapters at once: 8 rows over 4 LoRA adapters (one of them DoRA) in one mixed
// batch (`adapter_names`), against the same rows as 4 separate batches of 2, one per adapter, on a
// GPT-2-small-shaped model. Measures a forward pass over the prompts and greedy generation with the
// key/value cache, and checks that both ways give the same logits and tokens.
//
//     swift run -c release --package-path Benchmarks MixedAdapterBenchmarks [new-tokens] [rounds]
import Foundation
import PEFT

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let newTokens = arguments.first ?? 16
let rounds = arguments.count > 1 ? arguments[1] : 3
let promptLength = 32
let adapters = ["a", "b", "c", "dora"]

let configuration = GPT2Configuration()  // 12 layers, 768 wide, 12 heads, vocabulary 50257
print("Building a GPT-2-small-shaped model with random weights and 4 adapters …")
let model = GPT2LMHeadModel(configuration: configuration, seed: 1)
model.eval()
let peft = try PEFTModel(
    model,
    configuration: LoRAConfiguration {
        $0.rank = 8
        $0.alpha = 16
        $0.targets = .suffixes(["c_attn", "c_proj", "c_fc"])
    }, adapterName: adapters[0])
for name in adapters.dropFirst() {
    try peft.addAdapter(
        name,
        configuration: LoRAConfiguration {
            $0.rank = 8
            $0.alpha = 16
            $0.useDoRA = name == "dora"
            $0.targets = .suffixes(["c_attn", "c_proj", "c_fc"])
        })
}
var generator = RandomGenerator(seed: 2)
for name in adapters {
    for (key, parameter) in peft.tensors(of: peft.configurations[name]!, adapterName: name)
    where !key.contains("magnitude") {
        parameter.assign(Tensor.normal(parameter.shape, standardDeviation: 0.02, using: &generator))
    }
}
peft.eval()

let prompts = (0..<8).map { row in
    (0..<promptLength).map { ($0 * 7919 + row * 104_729) % configuration.vocabularySize }
}
let names = (0..<8).map { adapters[$0 % 4] }
let rowsOf = Dictionary(
    uniqueKeysWithValues: adapters.map { name in
        (name, names.indices.filter { names[$0] == name })
    })
var options = GenerationOptions(maximumNewTokens: newTokens)
options.stopTokenIDs = []

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let (whole, atto) = (ContinuousClock.now - start).components
    return Double(whole) + Double(atto) * 1e-18
}

var mixedLogits = Tensor.zeros([1])
var separateLogits: [String: Tensor] = [:]
var mixedTokens: [[Int]] = []
var separateTokens: [String: [[Int]]] = [:]
var times: [String: [Double]] = [:]
print(
    "8 rows × \(promptLength) prompt tokens over 4 adapters; \(newTokens) new tokens; \(rounds) rounds"
)
for round in 0...rounds {
    // The ways take turns in every round, so load from elsewhere on the machine hits them alike.
    let mixedForward = try seconds {
        mixedLogits = try peft.logits(DecoderInputs(tokenIDs: prompts), adapterNames: names)
    }
    let separateForward = try seconds {
        for name in adapters {
            try peft.setAdapter(name)
            separateLogits[name] = peft.logits(
                DecoderInputs(tokenIDs: rowsOf[name]!.map { prompts[$0] }))
        }
    }
    let mixedGeneration = try seconds {
        mixedTokens = try peft.generate(prompts: prompts, adapterNames: names, options: options)
    }
    let separateGeneration = try seconds {
        for name in adapters {
            try peft.setAdapter(name)
            separateTokens[name] = try peft.generate(
                prompts: rowsOf[name]!.map { prompts[$0] }, options: options)
        }
    }
    guard round > 0 else { continue }  // the first round warms up
    times["mixed forward", default: []].append(mixedForward)
    times["separate forward", default: []].append(separateForward)
    times["mixed generation", default: []].append(mixedGeneration)
    times["separate generation", default: []].append(separateGeneration)
}

var worst: Float = 0
var sameTokens = true
for name in adapters {
    for (index, row) in rowsOf[name]!.enumerated() {
        let mixed = mixedLogits.narrowed(alongAxis: 0, start: row, length: 1).scalars
        let separate = separateLogits[name]!.narrowed(alongAxis: 0, start: index, length: 1).scalars
        worst = max(worst, zip(mixed, separate).map { abs($0 - $1) }.max()!)
        sameTokens = sameTokens && mixedTokens[row] == separateTokens[name]![index]
    }
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print("")
print("| work | one mixed batch (s) | 4 separate batches (s) | separate / mixed |")
print("|---|---:|---:|---:|")
for work in ["forward", "generation"] {
    let (mixed, separate) = (median(times["mixed \(work)"]!), median(times["separate \(work)"]!))
    print(
        "| \(work) | \(String(format: "%.3f", mixed)) | \(String(format: "%.3f", separate)) | \(String(format: "%.2f", separate / mixed)) |"
    )
}
print("max |Δlogits| mixed vs separate: \(worst); same generated tokens: \(sameTokens)")
