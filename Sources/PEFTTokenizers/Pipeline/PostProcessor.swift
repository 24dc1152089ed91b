// Post-processors add the special tokens around an encoded sequence, such as T5's closing `</s>`.

/// A post-processor from a tokenizer.json `post_processor` entry, for single sequences.
enum PostProcessor: Sendable {
    /// The ids to emit, in order: `nil` stands for the sequence itself.
    case template([[Int]?])
    case sequence([PostProcessor])

    /// Reads a post-processor; `ByteLevel` only adjusts offsets, so it reads as an empty
    /// sequence. Throws ``TokenizerError/unsupportedComponent(file:key:type:)`` for others.
    init(node: JSONNode) throws(TokenizerError) {
        switch node.typeName {
        case "TemplateProcessing":
            let specialTokens = node["special_tokens"]
            var items: [[Int]?] = []
            for item in try node["single"].array() {
                if !item["Sequence"].isNull {
                    items.append(nil)
                } else if !item["SpecialToken"].isNull {
                    let name = try item["SpecialToken"]["id"].string()
                    var ids: [Int] = []
                    for id in try specialTokens[name]["ids"].array() {
                        ids.append(try id.tokenID())
                    }
                    items.append(ids)
                } else {
                    throw item.mismatch("a \"Sequence\" or \"SpecialToken\" item")
                }
            }
            self = .template(items)
        case "BertProcessing", "RobertaProcessing":
            let cls = try node["cls"].array()
            let sep = try node["sep"].array()
            guard cls.count == 2, sep.count == 2 else {
                throw node.mismatch("\"cls\" and \"sep\" as [token, id] pairs")
            }
            self = .template([[try cls[1].tokenID()], nil, [try sep[1].tokenID()]])
        case "ByteLevel":
            self = .sequence([])
        case "Sequence":
            var processors: [PostProcessor] = []
            for child in try node["processors"].array() {
                processors.append(try PostProcessor(node: child))
            }
            self = .sequence(processors)
        default:
            throw node.unsupported()
        }
    }

    /// The id of the first special token a template puts before the sequence (Llama's BOS).
    var leadingSpecialID: Int? {
        switch self {
        case .template(let items):
            guard let first = items.first, let ids = first else { return nil }
            return ids.first
        case .sequence(let processors):
            return processors.lazy.compactMap(\.leadingSpecialID).first
        }
    }

    /// Returns `ids` with the special tokens added.
    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .template(let items):
            return items.flatMap { $0 ?? ids }
        case .sequence(let processors):
            return processors.reduce(ids) { $1.process($0) }
        }
    }
}
