import ArgumentParser
import Foundation
import PEFT

/// `peft generate`: continue a prompt (GPT-2) or answer an input (T5).
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "The prompt (GPT-2) or the input text (T5).")
    var prompt: String

    @Option(name: .customLong("max-tokens"), help: "The most tokens to generate.")
    var maximumTokens = 32

    @Option(name: .long, help: "0 for greedy decoding; above 0 samples.")
    var temperature: Float = 0

    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0 = all).")
    var topK = 0

    @Option(name: .customLong("top-p"), help: "Sample among the tokens covering this probability.")
    var topP: Float = 1

    @Option(name: .long, help: "The sampling seed.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print the text and the generated token ids as one JSON object.")
    var json = false

    func validate() throws {
        guard maximumTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        guard temperature.isFinite && temperature >= 0 else {
            throw ValidationError("--temperature must be a finite number ≥ 0, got \(temperature)")
        }
        guard topK >= 0 else { throw ValidationError("--top-k must not be negative") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: options.model)
        let (loaded, peft) = try options.load()
        var generation = GenerationOptions(maximumNewTokens: maximumTokens)
        generation.temperature = temperature
        generation.topK = topK
        generation.topP = topP
        generation.seed = seed
        let tokenizer = try modelTokenizer(for: loaded, in: folder)
        let ids = tokenizer.encode(prompt)
        guard !ids.isEmpty else {
            throw CommandError("--prompt: the prompt encodes to no tokens")
        }
        try checkRange(ids, vocabularySize: loaded.vocabularySize, option: "--prompt (tokenized)")
        if let causal = loaded.causal {
            let model: any CausalLanguageModel = peft as? any CausalLanguageModel ?? causal
            guard ids.count < model.maximumLength else {
                throw CommandError(
                    "--prompt: \(ids.count) tokens leave no room in the model's positions")
            }
            let generated = model.generate(prompt: ids, options: generation)
            try printResult(text: prompt + tokenizer.decode(generated), generated: generated)
        } else if let seq2Seq = loaded.seq2Seq {
            let model: any Seq2SeqLanguageModel = peft as? any Seq2SeqLanguageModel ?? seq2Seq
            let generated = model.generate(
                input: DecoderInputs(tokenIDs: [ids]), options: generation)
            try printResult(
                text: tokenizer.decode(generated, skippingSpecialTokens: true), generated: generated
            )
        }
    }

    /// The text, or with `--json` `{"text": ..., "generated_ids": [...]}`.
    func printResult(text: String, generated: [Int]) throws {
        guard json else { return print(text) }
        let object: [String: Any] = ["text": text, "generated_ids": generated]
        print(
            String(
                decoding: try JSONSerialization.data(
                    withJSONObject: object, options: [.sortedKeys]),
                as: UTF8.self))
    }
}
