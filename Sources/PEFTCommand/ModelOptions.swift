import ArgumentParser
import Foundation
import PEFT

/// `--model DIR [--adapter DIR]`, shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json + model.safetensors).")
    var model: String

    @Option(
        name: .long, help: "An adapter folder (adapter_config.json + adapter_model.safetensors).")
    var adapter: String?

    /// The model, with the adapter applied when one is given, in evaluation mode.
    func load() throws -> (model: LoadedModel, adapter: (any PEFTModelProtocol)?) {
        let loaded = try LoadedModel(contentsOf: URL(fileURLWithPath: model))
        let peft = try adapter.map {
            try loadPEFTModel(loaded.model, from: URL(fileURLWithPath: $0))
        }
        loaded.model.eval()
        return (loaded, peft)
    }
}
