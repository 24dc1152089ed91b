// Trains the scale-and-shift method defined in this package on a small GPT-2 through PEFTModel,
// saves it in the adapter-folder format, reloads it into a fresh copy of the base and checks the
// logits are identical, then merges it and checks the merged model agrees. Exits non-zero on failure.
import Foundation
import PEFT
import ScaleShift

func check(_ condition: Bool, _ message: String) {
    guard condition else {
        FileHandle.standardError.write(Data("custom-method-demo: FAILED: \(message)\n".utf8))
        exit(1)
    }
}

/// The largest absolute difference between two tensors of one shape.
func maxAbsoluteDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The same random GPT-2 every time it is called.
func baseModel() -> GPT2LMHeadModel {
    let model = GPT2LMHeadModel(
        configuration: GPT2Configuration {
            $0.vocabularySize = 64
            $0.maximumPositions = 32
            $0.embeddingSize = 32
            $0.layerCount = 2
            $0.headCount = 4
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.attentionDropout = 0
            $0.initializerRange = 0.2
        }, seed: 7)
    return model
}

ScaleShift.register()

// A task the frozen random base does not know: continue k, k+2, k+4, ... (mod 64) from eight starts.
var generator = RandomGenerator(seed: 11)
func batch(_ size: Int, using generator: inout RandomGenerator) -> [[Int]] {
    (0..<size).map { _ in
        let start = Int(generator.next() % 8) * 8
        return (0..<12).map { (start + 2 * $0) % 64 }
    }
}

let model = baseModel()
let peft = try PEFTModel(
    model, configuration: ScaleShiftConfiguration(targets: ["c_attn", "c_fc", "mlp.c_proj"]))
peft.printTrainableParameters()
let frozen = model.namedParameters().filter { !$0.path.contains("scale_shift") }.map {
    ($0.path, $0.parameter.value.scalars)
}

let optimizer = AdamW(peft.trainableParameters, learningRate: 0.2, weightDecay: 0)
peft.train()
var losses: [Float] = []
for step in 0..<100 {
    let tokens = batch(16, using: &generator)
    let loss = causalLanguageModelingLoss(logits: peft(tokens), labels: tokens)
    loss.backward()
    optimizer.step()
    optimizer.zeroGradients()
    losses.append(loss.scalar)
    if step % 10 == 0 || step == 99 { print("step \(step): loss \(loss.scalar)") }
}
peft.eval()
check(
    losses.suffix(5).reduce(0, +) < 0.9 * losses.prefix(5).reduce(0, +),
    "the loss did not fall: \(losses)")
let stillFrozen = Dictionary(
    uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter.value.scalars) })
check(frozen.allSatisfy { stillFrozen[$0.0] == $0.1 }, "a base weight changed")

let probe = batch(2, using: &generator)
let trained = withoutGradients { peft(probe) }
let base = try peft.withAdaptersDisabled { withoutGradients { peft(probe) } }
check(maxAbsoluteDifference(trained, base) > 1e-3, "the adapter changes nothing")

let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "scale-shift-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: folder) }
try peft.save(to: folder)
let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
print("saved \(files.joined(separator: ", ")) to \(folder.path)")

let reloaded = try PEFTModel.load(baseModel(), from: folder)
reloaded.eval()
check(
    reloaded.configurations["default"] is ScaleShiftConfiguration,
    "the folder did not load as SCALE_SHIFT")
let reloadedLogits = withoutGradients { reloaded(probe) }
check(
    reloadedLogits.scalars == trained.scalars,
    "reloaded logits differ: \(maxAbsoluteDifference(reloadedLogits, trained))")
print("reloaded: logits identical (max |Δ| 0)")

try reloaded.merge()
let merged = withoutGradients { reloaded(probe) }
let mergeDifference = maxAbsoluteDifference(merged, trained)
check(mergeDifference < 1e-4, "merged logits differ by \(mergeDifference)")
try reloaded.unmerge()
let unmergeDifference = maxAbsoluteDifference(withoutGradients { reloaded(probe) }, trained)
check(unmergeDifference < 1e-4, "unmerged logits differ by \(unmergeDifference)")
print("merged: max |Δ| \(mergeDifference); unmerged again: max |Δ| \(unmergeDifference)")

try reloaded.deleteAdapter("default")
check(reloaded.adapterLayers().isEmpty, "deleting the adapter left wrapped layers")
let restored = withoutGradients { reloaded.base(probe) }
check(maxAbsoluteDifference(restored, base) < 1e-4, "deleting the adapter did not restore the base")
print("custom-method-demo: OK (loss \(losses[0]) → \(losses[99]))")
