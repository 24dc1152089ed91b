import ArgumentParser
import Foundation
import PEFT

/// `peft merge`: fold one LoRA adapter, or a weighted combination of several, into its base model and
/// save a plain Hugging Face folder.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge an adapter, or a combination of adapters, into its base model.",
        discussion: """
            With one --adapter DIR the adapter is merged as it is. With several (--adapter NAME=DIR, \
            repeated) they are first combined into one, as PEFT's add_weighted_adapter does, e.g.
              peft merge --model M --adapter a=A --adapter b=B --combination ties --density 0.5 \
            --weights 1,1 --out OUT
            """)

    @Option(name: .long, help: "A Hugging Face model folder (config.json + model.safetensors).")
    var model: String

    @Option(
        name: .customLong("adapter"),
        help: ArgumentHelp(
            "An adapter folder, or NAME=DIR; repeat to combine several.", valueName: "[NAME=]DIR"))
    var adapters: [String] = []

    @Option(name: .long, help: "The folder to write (config.json + model.safetensors).")
    var out: String

    @Option(
        name: .long,
        help: "Also write the combined adapter to this folder, as PEFT's save_pretrained would.")
    var adapterOut: String?

    @Flag(name: .long, help: "Refuse to merge when the merged weights would not be finite.")
    var safe = false

    @Option(
        name: .long,
        help:
            "How to combine several adapters: \(LoRACombination.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var combination: LoRACombination = .svd

    @Option(name: .long, help: "One weight per adapter, comma-separated (default: all 1).")
    var weights: String?

    @Option(name: .long, help: "The fraction of entries the pruning combinations keep, in [0, 1].")
    var density: Double?

    @Option(name: .long, help: "How TIES elects each entry's sign: total or frequency.")
    var majoritySignMethod: MajoritySignMethod = .total

    @Option(name: .long, help: "The rank of an SVD combination (default: the largest rank).")
    var svdRank: Int?

    @Option(
        name: .long,
        help: "Clamp an SVD combination's factors to ± this quantile of their entries, in [0, 1].")
    var svdClamp: Double?

    @Option(name: .long, help: "The seed of the DARE combinations' random masks.")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("base-dtype"),
        help:
            "Load the base as it was trained under: fp32, bf16, int8 or nf4 (a QLoRA adapter merges into the dequantised base it was trained on)."
    )
    var baseFormat: FrozenWeightFormat = .fp32

    @Option(
        name: .customLong("dtype"),
        help: "The merged weights' dtype in model.safetensors: fp32 (default) or bf16.")
    var writtenFormat: FrozenWeightFormat = .fp32

    /// The adapters as (name, folder); a bare folder is named `default`.
    func namedAdapters() throws -> [(name: String, folder: URL)] {
        let named = adapters.map { value -> (name: String, folder: URL) in
            if let equals = value.firstIndex(of: "="), !value[..<equals].contains("/"),
                equals != value.startIndex
            {
                return (
                    String(value[..<equals]),
                    URL(fileURLWithPath: String(value[value.index(after: equals)...]))
                )
            }
            return ("default", URL(fileURLWithPath: value))
        }
        let names = named.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError(
                "--adapter: the name '\(repeated)' is used twice; name each adapter with NAME=DIR")
        }
        return named
    }

    /// The weights given with --weights, or one 1 per adapter.
    func parsedWeights(count: Int) throws -> [Float] {
        guard let weights else { return Array(repeating: 1, count: count) }
        let values = try weights.split(separator: ",", omittingEmptySubsequences: false).map {
            part -> Float in
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)), value.isFinite
            else {
                throw ValidationError("--weights: '\(part)' is not a number")
            }
            return value
        }
        guard values.count == count else {
            throw ValidationError("--weights: \(values.count) weight(s) for \(count) adapter(s)")
        }
        return values
    }

    func validate() throws {
        guard !adapters.isEmpty else { throw ValidationError("merge needs --adapter") }
        guard writtenFormat == .fp32 || writtenFormat == .bf16 else {
            throw ValidationError(
                "--dtype \(writtenFormat.rawValue): a merged model is written as fp32 or bf16; "
                    + "load it again with --base-dtype \(writtenFormat.rawValue) to run it in "
                    + "\(writtenFormat.rawValue)")
        }
        let count = try namedAdapters().count
        _ = try parsedWeights(count: count)
        if let density, !(density >= 0) {
            throw ValidationError("--density: \(density) is not at least 0")
        }
        if combination.needsDensity && count > 1 && density == nil {
            throw ValidationError("--combination \(combination.rawValue) needs --density")
        }
        if let svdRank, svdRank < 1 { throw ValidationError("--svd-rank: must be positive") }
        if adapterOut != nil && count < 2 {
            throw ValidationError("--adapter-out writes a combination: give two or more --adapter")
        }
        if let svdClamp, !(0...1).contains(svdClamp) {
            throw ValidationError("--svd-clamp: \(svdClamp) is not a quantile in [0, 1]")
        }
    }

    func run() throws {
        let loaded = try LoadedModel(
            contentsOf: URL(fileURLWithPath: model), baseFormat: baseFormat)
        loaded.model.eval()
        let named = try namedAdapters()
        if baseFormat != .fp32 {
            // The merged weights are the dequantised base plus the adapter, written in --dtype:
            // rounding the sum to the base's format again would erase most of a small update.
            for parameter in loaded.model.parameters where parameter.lowPrecision != nil {
                parameter.compress(to: .fp32)
            }
            // As PEFT warns when merging into a bitsandbytes layer.
            FileHandle.standardError.write(
                Data(
                    ("warning: merging into a \(baseFormat.rawValue) base: the merged weights are the "
                        + "dequantised base plus the adapter, so they differ from a merge into the "
                        + "original weights by the quantisation error\n").utf8))
        }
        try merge(loaded.model, adapters: named, weights: try parsedWeights(count: named.count))
        let destination = URL(fileURLWithPath: out)
        try loaded.save(to: destination, bfloat16: writtenFormat == .bf16)
        // The tokenizer comes along, so the merged folder is complete on its own.
        let source = URL(fileURLWithPath: model)
        for name in [
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
            "merges.txt",
        ] {
            let file = source.appendingPathComponent(name)
            let target = destination.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path)
                && !FileManager.default.fileExists(atPath: target.path)
            {
                try AtomicFileReplacement.copy(file, to: target)
            }
        }
        let what =
            named.count == 1
            ? named[0].folder.path
            : "\(combination.rawValue) of \(named.map(\.name).joined(separator: ", "))"
        print("merged \(what) into \(model) → \(out)")
    }

    /// Loads the adapters onto `base`, combines several into one, and merges it into the weights.
    private func merge<Base: Module>(
        _ base: Base, adapters named: [(name: String, folder: URL)], weights: [Float]
    ) throws {
        let peft = try PEFTModel.load(base, from: named[0].folder, adapterName: named[0].name)
        guard named.count > 1 else {
            try peft.mergeAndUnload(safe: safe)
            return
        }
        for (name, folder) in named.dropFirst() { try peft.loadAdapter(from: folder, as: name) }
        let combined = Self.combinedName(avoiding: named.map(\.name))
        try peft.addWeightedAdapter(
            named.map(\.name), weights: weights, name: combined, combination: combination,
            svdRank: svdRank, svdClamp: svdClamp, density: density,
            majoritySignMethod: majoritySignMethod,
            masks: SeededPruningMasks(seed: seed))
        if let adapterOut {
            // Saved as PEFT saves a named adapter, in a subfolder beside the destination (one file
            // system), then each file renamed into place over any old one.
            let destination = URL(fileURLWithPath: adapterOut)
            try FileManager.default.createDirectory(
                at: destination, withIntermediateDirectories: true)
            let staging = destination.deletingLastPathComponent().appendingPathComponent(
                ".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
            defer { try? FileManager.default.removeItem(at: staging) }
            try peft.save(to: staging, adapters: [combined])
            for file in try FileManager.default.contentsOfDirectory(
                at: staging.appendingPathComponent(combined), includingPropertiesForKeys: nil)
            {
                try AtomicFileReplacement.move(
                    file, to: destination.appendingPathComponent(file.lastPathComponent))
            }
        }
        try peft.mergeAndUnload(adapters: [combined], safe: safe)
    }

    /// `merged`, or `merged_2`, ... if an input adapter already has the name.
    static func combinedName(avoiding names: [String]) -> String {
        var candidate = "merged"
        var index = 1
        while names.contains(candidate) {
            index += 1
            candidate = "merged_\(index)"
        }
        return candidate
    }
}

extension LoRACombination: ExpressibleByArgument {}
extension MajoritySignMethod: ExpressibleByArgument {}
