import Foundation

/// The parts of a folder's `tokenizer_config.json` that decide how `transformers` loads the
/// tokenizer: its class and its named special tokens.
///
/// A special token may be written as a string, as `{"content": ...}` (transformers' serialized
/// `AddedToken`) or as `null`. An absent key and `null` both read as `nil`; ``names(_:)`` tells
/// them apart, since a class's default applies only to an absent key.
public struct TokenizerConfiguration: Sendable, Equatable {
    /// `tokenizer_class`, such as `LlamaTokenizer`, `Qwen2Tokenizer` or `PreTrainedTokenizerFast`.
    public var tokenizerClass: String?
    /// `bos_token`: the text of the start-of-sequence token.
    public var bosToken: String?
    /// `eos_token`: the text of the end-of-sequence token.
    public var eosToken: String?
    /// `pad_token`: the text of the padding token.
    public var padToken: String?
    /// `unk_token`: the text of the unknown token.
    public var unknownToken: String?
    /// `add_prefix_space`, which `LlamaTokenizer` and `Qwen2Tokenizer` read.
    public var addPrefixSpace: Bool?
    /// `legacy`, which decides `LlamaTokenizer`'s Metaspace scheme (false, the default, gives
    /// `"first"`).
    public var legacy: Bool?
    /// `add_bos_token`. `transformers` 5 ignores it when the folder has a tokenizer.json (the
    /// file's post-processor decides), and so does this module; it is kept for display.
    public var addBOSToken: Bool?
    /// The special-token keys the file writes, `null` ones included.
    public var presentKeys: Set<String> = []

    /// A configuration with nothing set, as for a folder without the file.
    public init() {}

    /// Reads `tokenizer_config.json`; a missing file gives an empty configuration.
    public init(contentsOf url: URL) throws(TokenizerError) {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let root = try JSONNode.load(contentsOf: url)
        guard case .object? = root.value else { throw root.mismatch("a JSON object") }
        tokenizerClass = try root["tokenizer_class"].optionalString()
        bosToken = try Self.token(root["bos_token"])
        eosToken = try Self.token(root["eos_token"])
        padToken = try Self.token(root["pad_token"])
        unknownToken = try Self.token(root["unk_token"])
        addPrefixSpace =
            root["add_prefix_space"].isNull
            ? nil : try root["add_prefix_space"].bool(default: false)
        legacy = root["legacy"].isNull ? nil : try root["legacy"].bool(default: false)
        addBOSToken =
            root["add_bos_token"].isNull ? nil : try root["add_bos_token"].bool(default: false)
        for key in ["bos_token", "eos_token", "pad_token", "unk_token"] {
            if case .object(let members)? = root.value, members.contains(where: { $0.key == key }) {
                presentKeys.insert(key)
            }
        }
    }

    /// Whether the file writes `key` at all, even as `null`.
    public func names(_ key: String) -> Bool {
        presentKeys.contains(key)
    }

    /// A token given as a string or as an object with a `content` string.
    static func token(_ node: JSONNode) throws(TokenizerError) -> String? {
        if node.isNull { return nil }
        if case .string(let text)? = node.value { return text }
        guard !node["content"].isNull else {
            throw node.mismatch("a string, null, or an object with a \"content\" string")
        }
        return try node["content"].string()
    }
}
