import ArgumentParser
import Foundation
import PEFT

/// `peft generate`: continue a prompt (GPT-2) or answer an input (T5).
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "The prompt (GPT-2) or the input text (T5).")
    var prompt: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A JSON Lines file of prompts, each {\"prompt\": ..., \"adapter\": NAME}, served in shared batches.",
            discussion:
                "NAME is one of the --adapter NAME=DIR names, or __base__ for none; a line without "
                + "\"adapter\" uses the first adapter. Decoder-only models only."))
    var prompts: String?

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
        guard (prompt == nil) != (prompts == nil) else {
            throw ValidationError("give exactly one of --prompt and --prompts")
        }
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
        if let prompts {
            return try runPrompts(
                URL(fileURLWithPath: prompts), loaded: loaded, peft: peft, tokenizer: tokenizer,
                generation: generation)
        }
        let prompt = prompt!
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
            let generated = try model.generate(prompt: ids, options: generation)
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

    /// Serves every line of `--prompts` with its adapter: one line of output per prompt, in order.
    func runPrompts(
        _ url: URL, loaded: LoadedModel, peft: (any PEFTModelProtocol)?, tokenizer: any Tokenizer,
        generation: GenerationOptions
    ) throws {
        guard let causal = loaded.causal else {
            throw CommandError("--prompts: needs a decoder-only model")
        }
        let requests = try PromptRequest.load(url, defaultAdapter: peft?.activeAdapter)
        var encoded: [[Int]] = []
        for request in requests {
            let option = "--prompts line \(request.line)"
            let ids = tokenizer.encode(request.prompt)
            guard !ids.isEmpty else {
                throw CommandError("\(option): the prompt encodes to no tokens")
            }
            try checkRange(ids, vocabularySize: loaded.vocabularySize, option: option)
            guard ids.count < causal.maximumLength else {
                throw CommandError(
                    "\(option): \(ids.count) tokens leave no room in the model's positions")
            }
            let name = request.adapter
            if name != AdapterRowAssignment.baseName
                && !(peft?.adapterNames.contains(name) ?? false)
            {
                throw CommandError(
                    "\(option): unknown adapter '\(name)' (loaded: \((peft?.adapterNames ?? []).joined(separator: ", ")); or __base__)"
                )
            }
            encoded.append(ids)
        }
        let names = requests.map(\.adapter)
        let generated: [[Int]]
        if let mixed = peft as? any MixedAdapterGenerating {
            generated = try mixed.generate(
                prompts: encoded, adapterNames: names, options: generation)
        } else {
            generated = try encoded.map { try causal.generate(prompt: $0, options: generation) }
        }
        for (request, tokens) in zip(requests, generated) {
            let text = request.prompt + tokenizer.decode(tokens)
            guard json else {
                print(text)
                continue
            }
            let object: [String: Any] = [
                "adapter": request.adapter, "text": text, "generated_ids": tokens,
            ]
            print(
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: object, options: [.sortedKeys]),
                    as: UTF8.self))
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
