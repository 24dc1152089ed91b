// The model stage of the pipeline: BPE or Unigram, as tokenizer.json's `model` says.

/// The model that turns one pre-tokenized piece into ids.
enum TokenizerModel: Sendable {
    case bytePairEncoding(BytePairEncoding)
    case unigram(UnigramModel)

    /// Reads tokenizer.json's `model`, throwing ``TokenizerError/unsupportedModel(file:type:)``
    /// for types other than `BPE` and `Unigram`.
    init(node: JSONNode) throws(TokenizerError) {
        // Older files leave out `type`; HF then tells the models apart by their fields.
        let type = node.typeName ?? (node["merges"].isNull ? "Unigram" : "BPE")
        switch type {
        case "BPE":
            self = .bytePairEncoding(try Self.bytePairEncoding(node))
        case "Unigram":
            self = .unigram(try Self.unigram(node))
        default:
            throw .unsupportedModel(file: node.file, type: type)
        }
    }

    static func bytePairEncoding(_ node: JSONNode) throws(TokenizerError) -> BytePairEncoding {
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] where !node[key].isNull {
            if try !node[key].string().isEmpty {
                throw .unsupportedComponent(file: node.file, key: "model.\(key)", type: "BPE")
            }
        }
        var vocabulary = Vocabulary()
        for (token, id) in try node["vocab"].members() {
            vocabulary.insert(token, id: try id.tokenID())
        }
        var merges: [(String, String)] = []
        for merge in try node["merges"].array() {
            if merge.isArray {
                let parts = try merge.array()
                guard parts.count == 2 else { throw merge.mismatch("a pair of tokens") }
                merges.append((try parts[0].string(), try parts[1].string()))
            } else {
                let parts = try merge.string().split(
                    separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw merge.mismatch("two tokens split by a space") }
                merges.append((String(parts[0]), String(parts[1])))
            }
        }
        return try BytePairEncoding(
            vocabulary: vocabulary, merges: merges,
            unknownToken: try node["unk_token"].optionalString(),
            fuseUnknown: try node["fuse_unk"].bool(default: false),
            byteFallback: try node["byte_fallback"].bool(default: false),
            ignoreMerges: try node["ignore_merges"].bool(default: false), file: node.file)
    }

    static func unigram(_ node: JSONNode) throws(TokenizerError) -> UnigramModel {
        var pieces: [(String, Double)] = []
        for entry in try node["vocab"].array() {
            let pair = try entry.array()
            guard pair.count == 2 else { throw entry.mismatch("a [piece, score] pair") }
            pieces.append((try pair[0].string(), try pair[1].double()))
        }
        let unknownID = try node["unk_id"].optionalInt()
        if let unknownID, !pieces.indices.contains(unknownID) {
            throw node["unk_id"].mismatch("the index of a vocabulary entry")
        }
        return UnigramModel(
            pieces: pieces, unknownID: unknownID,
            byteFallback: try node["byte_fallback"].bool(default: false))
    }

    /// Returns the ids of one piece.
    func tokenize(_ piece: String) -> [Int] {
        switch self {
        case .bytePairEncoding(let model): return model.tokenize(piece)
        case .unigram(let model): return model.tokenize(piece)
        }
    }

    var vocabulary: Vocabulary {
        switch self {
        case .bytePairEncoding(let model): return model.vocabulary
        case .unigram(let model): return model.vocabulary
        }
    }

    var unknownID: Int? {
        switch self {
        case .bytePairEncoding(let model): return model.unknownID
        case .unigram(let model): return model.unknownID
        }
    }
}
