import Foundation
import PEFTTraining

/// Generation speed in tokens per second, measured after training for the trade-off report.
struct InferenceSpeed {
    /// With the adapter applied as separate layers.
    var unmerged: Double
    /// With the adapter merged into the base weights, for the methods that merge (LoRA, IA3) over an
    /// fp32 base.
    var merged: Double?

    /// Greedy generation of 16 tokens from `prompt`, after one warm-up run; a merge is undone
    /// before returning.
    init(_ prepared: PreparedModel, tokenizer: any Tokenizer, prompt: String) throws {
        prepared.train(false)
        func measure() throws -> Double {
            var options = GenerationOptions(maximumNewTokens: 16)
            options.stopTokenIDs = []
            let ids = Array(tokenizer.encode(prompt).prefix(32))
            let start = ContinuousClock.now
            let count: Int
            if let decoder = prepared.causalLanguageModel {
                count = try decoder.generate(prompt: ids, options: options).count
            } else {
                count =
                    prepared.seq2SeqLanguageModel!.generate(
                        input: DecoderInputs(tokenIDs: [ids]), options: options
                    ).count
            }
            return Double(count) / max((ContinuousClock.now - start).seconds, 1e-9)
        }
        _ = try measure()
        unmerged = try measure()
        // Merging into a low-precision base rounds the weights, and unmerging cannot undo that.
        let lowPrecisionBase = prepared.base.parameters.contains { $0.lowPrecision != nil }
        guard let adapter = prepared.adapter, [.lora, .ia3].contains(prepared.method),
            !lowPrecisionBase
        else {
            merged = nil
            return
        }
        try adapter.merge()
        defer { try? adapter.unmerge() }
        merged = try measure()
    }
}
