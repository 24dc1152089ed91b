import ArgumentParser
import Foundation
import PEFT

/// `peft merge`: fold a LoRA adapter into its base model and save a plain Hugging Face folder.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge an adapter into its base model and write the merged model folder.")

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "The folder to write (config.json + model.safetensors).")
    var out: String

    @Flag(name: .long, help: "Refuse to merge when the merged weights would not be finite.")
    var safe = false

    func validate() throws {
        guard !options.adapter.isEmpty else { throw ValidationError("merge needs --adapter") }
    }

    func run() throws {
        let (loaded, peft) = try options.load()
        guard let peft else { return }
        try peft.mergeAndUnload(safe: safe)
        let destination = URL(fileURLWithPath: out)
        try loaded.save(to: destination)
        // The tokenizer comes along, so the merged folder is complete on its own.
        let source = URL(fileURLWithPath: options.model)
        for name in [
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
            "merges.txt",
        ] {
            let file = source.appendingPathComponent(name)
            let target = destination.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path)
                && !FileManager.default.fileExists(atPath: target.path)
            {
                try FileManager.default.copyItem(at: file, to: target)
            }
        }
        print("merged \(options.adapter.joined(separator: ", ")) into \(options.model) → \(out)")
    }
}
