import PEFTNN
import PEFTTensor

/// Trainable tokens: only chosen rows of an embedding table train (PEFT's `TRAINABLE_TOKENS`).
public enum TrainableTokens: PEFTMethod {
    /// Wraps every targeted embedding in ``TrainableTokensEmbedding`` and adds the adapter's rows.
    public static func apply(
        _ configuration: inout TrainableTokensConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        try validateTokenIndices(configuration.tokenIndices, key: "token_indices")
        if case .automatic = configuration.targets {
            // Saved as the embedding's path, as PEFT saves it (a regular expression matching it).
            configuration.targets = .pattern(try inputEmbeddingPath(in: context))
        }
        let paths = try context.matchModules(configuration.targets) {
            $0 is Embedding || $0 is TrainableTokensEmbedding
        }
        for path in paths {
            try addRows(
                configuration.tokenIndices, to: path, fileKey: "trainable_tokens_delta",
                fromBase: configuration.initializesFromBase, context: context)
        }
        return .none
    }

    /// The deltas, plus, when the output head is tied to the input embedding, the same deltas under
    /// the head's key (`lm_head.trainable_tokens_delta`), which PEFT writes for its tied adapter.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: TrainableTokensConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        let own = layerTensors(in: model, adapterName: adapterName)
        let context = AdapterContext(model: model, adapterName: adapterName)
        guard let embedding = try? inputEmbeddingPath(in: context),
            let head = tiedHeadPath(in: context),
            let layer = try? model.module(at: embedding) as? TrainableTokensEmbedding,
            let delta = layer.adapters[adapterName]?.delta
        else { return own }
        return own + [(AdapterFolder.keyPrefix + "\(head).trainable_tokens_delta", delta)]
    }

    /// The rows are written into the table on merge.
    public static var mergesIntoBase: Bool { true }

    /// Adds an adapter's rows to the embedding at `path`, wrapping it first if it is a plain table.
    static func addRows(
        _ indices: [Int], to path: String, fileKey: String, fromBase: Bool,
        context: AdapterContext
    ) throws {
        let model = context.model
        let layer: TrainableTokensEmbedding
        switch try model.module(at: path) {
        case let existing as TrainableTokensEmbedding: layer = existing
        case let embedding as Embedding:
            layer = TrainableTokensEmbedding(wrapping: embedding)
            try model.replaceModule(at: path, with: layer)
        case let other:
            throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: other))")
        }
        if let outside = indices.first(where: { $0 >= layer.count }) {
            throw AdapterError.invalidConfiguration(
                key: "token_indices",
                reason: "index \(outside) is outside the \(layer.count) rows of '\(path)'")
        }
        let original = withoutGradients {
            gatherRows(layer.base.weight.detached(), indices: indices)
        }
        var generator = RandomGenerator(seed: context.seed(for: path, purpose: "trainable_tokens"))
        let delta =
            fromBase
            ? original.copied()
            : Tensor.normal([indices.count, layer.dimension], using: &generator)
        try layer.adapters.add(
            context.adapterName,
            TrainableTokensDelta(
                indices: indices, delta: delta, original: original, fileKey: fileKey))
    }

    /// The path of the model's input embedding (PEFT's `get_input_embeddings()`): the table the
    /// family names as its word embeddings, else the first module named `embed_tokens`.
    static func inputEmbeddingPath(in context: AdapterContext) throws -> String {
        let modules = context.model.namedModules()
        if let wrapped = modules.first(where: { $0.module is TrainableTokensEmbedding }) {
            return wrapped.path
        }
        if let table = context.family?.wordEmbeddingTable.storage {
            for (path, module) in modules {
                guard let embedding = module as? Embedding, embedding.weight.storage === table
                else { continue }
                return path.hasSuffix(".base_layer") ? String(path.dropLast(11)) : path
            }
        }
        if let named = modules.first(where: {
            $0.path == "embed_tokens" || $0.path.hasSuffix(".embed_tokens")
        }) {
            return named.path
        }
        throw AdapterError.invalidConfiguration(
            key: "target_modules", reason: "the model's input embedding was not found; name it")
    }

    /// `lm_head` when the model ties its output head to the input embedding (the family names no
    /// head module of its own), else `nil`.
    static func tiedHeadPath(in context: AdapterContext) -> String? {
        guard let family = context.family, family.outputHeadPaths.isEmpty else { return nil }
        return "lm_head"
    }
}
