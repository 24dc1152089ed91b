/// A tokenizer whose ids are the UTF-8 bytes of the text, for examples that need no vocabulary.
///
/// Ids 0-255 are bytes, ``padTokenID`` is 256 and ``eosTokenID`` (also ``bosTokenID``) is 257,
/// so ``vocabularySize`` is 258. Every string survives a round trip:
///
/// ```swift
/// let tokenizer = ByteTokenizer()
/// tokenizer.encode("hé")                    // [104, 195, 169]
/// tokenizer.decode(tokenizer.encode("hé"))  // "hé"
/// ```
public struct ByteTokenizer: Tokenizer {
    /// The id that pads a batch: 256.
    public static let padding = 256

    /// The id that ends (and starts) a sequence: 257.
    public static let endOfSequence = 257

    /// Creates the tokenizer; it has no state.
    public init() {}

    /// 258: the 256 byte values and the two special ids.
    public var vocabularySize: Int { 258 }

    /// 257, the same token as ``eosTokenID``.
    public var bosTokenID: Int? { Self.endOfSequence }

    /// 257.
    public var eosTokenID: Int? { Self.endOfSequence }

    /// 256.
    public var padTokenID: Int? { Self.padding }

    /// Returns the UTF-8 bytes of `text` as ids; no special token is added.
    public func encode(_ text: String) -> [Int] {
        text.utf8.map { Int($0) }
    }

    /// Returns the UTF-8 bytes of `text` as ids, followed by ``eosTokenID`` when
    /// `appendingEndOfSequence` is true.
    public func encode(_ text: String, appendingEndOfSequence: Bool) -> [Int] {
        encode(text) + (appendingEndOfSequence ? [Self.endOfSequence] : [])
    }

    /// Returns the text of the byte ids in `ids`; special and out-of-range ids are skipped, and
    /// invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        let bytes = ids.compactMap { (0..<256).contains($0) ? UInt8($0) : nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
