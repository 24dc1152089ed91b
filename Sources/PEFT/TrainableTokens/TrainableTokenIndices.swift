/// LoRA's `trainable_token_indices`: embedding rows that train beside the factors, as PEFT's
/// `TrainableTokensWrapper` trains them.
public enum TrainableTokenIndices: Codable, Equatable, Sendable {
    /// A list: rows of the model's input embedding.
    case inputEmbedding([Int])
    /// A mapping from embedding module names to their rows (`{"embed_tokens": [0, 1]}`).
    case modules([String: [Int]])

    /// Reads a list or an object.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([Int].self) {
            self = .inputEmbedding(list)
        } else if let byModule = try? container.decode([String: [Int]].self) {
            self = .modules(byModule)
        } else {
            throw AdapterError.invalidConfiguration(
                key: "trainable_token_indices",
                reason: "must be a list of token ids or an object of module name → token ids")
        }
    }

    /// Writes the list or the object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .inputEmbedding(let list): try container.encode(list)
        case .modules(let byModule): try container.encode(byModule)
        }
    }
}

extension LoRA {
    /// Wraps the embeddings `trainable_token_indices` names and adds the adapter's rows, keyed
    /// `token_adapter.trainable_tokens_delta` as PEFT's wrapper saves them.
    static func addTrainableTokens(
        _ indices: TrainableTokenIndices, in context: AdapterContext
    ) throws {
        let requests: [(path: String, indices: [Int])]
        switch indices {
        case .inputEmbedding(let list):
            requests = [(try TrainableTokens.inputEmbeddingPath(in: context), list)]
        case .modules(let byModule):
            requests = try byModule.keys.sorted().flatMap { name in
                try context.matchModules(.suffixes([name])) {
                    $0 is Embedding || $0 is TrainableTokensEmbedding || $0 is LoRAEmbedding
                }
                .map { ($0, byModule[name]!) }
            }
        }
        for (path, rows) in requests {
            if try context.model.module(at: path) is LoRAEmbedding {
                throw AdapterError.invalidConfiguration(
                    key: "trainable_token_indices",
                    reason:
                        "'\(path)' is also a LoRA target; train its tokens or adapt it, not both")
            }
            try TrainableTokens.addRows(
                rows, to: path, fileKey: "token_adapter.trainable_tokens_delta", fromBase: true,
                context: context)
        }
    }
}
