import FuzzSupport
import Foundation
import PEFT

/// The valid weights of a small fixture model under any bytes as its `config.json`: loading must
/// throw or give a model whose logits can be computed.
func fuzzModelConfiguration(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let folder = FuzzInput.scratchFolder
    _ = FuzzInput.file("config.json", containing: FuzzInput.data(start, count))
    let data = FuzzInput.data(start, count)
    // The weights that go with the family the config names, so that loading gets past them.
    let fixture =
        String(decoding: data, as: UTF8.self).contains("\"t5\"")
        ? "t5-v1_0-tiny"
        : String(decoding: data, as: UTF8.self).contains("\"gpt2\"") ? "gpt2-tiny" : "llama-tiny"
    let weights = folder.appendingPathComponent("model.safetensors")
    try? FileManager.default.removeItem(at: weights)
    try? FileManager.default.copyItem(
        at: FuzzInput.fixtures.appendingPathComponent("\(fixture)/model.safetensors"), to: weights)
    guard let loaded = try? LoadedModel(contentsOf: folder) else { return 0 }
    if let causal = loaded.causal {
        _ = causal.logits(DecoderInputs(tokenIDs: [[0, 1]]))
    }
    return 0
}
