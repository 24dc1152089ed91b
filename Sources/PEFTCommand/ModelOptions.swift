import ArgumentParser
import Foundation
import PEFT

/// `--model DIR [--adapter DIR | --adapter NAME=DIR ...]`, shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json + model.safetensors).")
    var model: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "An adapter folder (adapter_config.json + adapter_model.safetensors).",
            discussion:
                "Repeat as NAME=DIR to load several adapters under their names; the first is active."
        ))
    var adapter: [String] = []

    @Option(
        name: .customLong("base-dtype"),
        help:
            "How the base's weight matrices are stored while it runs: fp32, bf16, int8 or nf4 (dequantised panel by panel for each product)."
    )
    var baseFormat: FrozenWeightFormat = .fp32

    /// `(name, folder)` for every `--adapter`: a bare folder is named `default`.
    func namedAdapters() throws -> [(name: String, folder: String)] {
        let entries = adapter.map { entry -> (name: String, folder: String) in
            guard let equals = entry.firstIndex(of: "="),
                !entry[..<equals].isEmpty, !entry[..<equals].contains("/")
            else { return ("default", entry) }
            return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        }
        var seen = Set<String>()
        for (name, folder) in entries {
            guard !folder.isEmpty else { throw CommandError("--adapter \(name)=: no folder given") }
            guard name != AdapterRowAssignment.baseName else {
                throw CommandError("--adapter: '\(name)' is reserved for the base model")
            }
            guard seen.insert(name).inserted else {
                throw CommandError(
                    "--adapter: the name '\(name)' is given twice (use NAME=DIR for several)")
            }
        }
        return entries
    }

    /// The model, with the adapters applied when given (the first one active), in evaluation mode.
    func load() throws -> (model: LoadedModel, adapter: (any PEFTModelProtocol)?) {
        let loaded = try LoadedModel(
            contentsOf: URL(fileURLWithPath: model), baseFormat: baseFormat)
        let adapters = try namedAdapters()
        var peft: (any PEFTModelProtocol)?
        for (name, folder) in adapters {
            let url = URL(fileURLWithPath: folder)
            if let existing = peft {
                try existing.loadAdapter(from: url, as: name)
            } else {
                peft = try loadPEFTModel(loaded.model, from: url, adapterName: name)
            }
        }
        loaded.model.eval()
        return (loaded, peft)
    }
}
