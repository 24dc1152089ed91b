// Token strings and their ids, looked up by UTF-8 bytes: `String` keys would compare up to
// canonical equivalence and merge "é" with "e\u{301}", which HF keeps apart.

/// The tokens of a model, both ways.
struct Vocabulary: Sendable {
    private(set) var tokens: [String?] = []
    private var ids: [[UInt8]: Int] = [:]

    /// Adds `token` with `id`; a later id for the same token wins, as in HF's maps.
    mutating func insert(_ token: String, id: Int) {
        if id >= tokens.count {
            tokens.append(contentsOf: repeatElement(nil, count: id + 1 - tokens.count))
        }
        tokens[id] = token
        ids[Array(token.utf8)] = id
    }

    /// The id of `token`, if the vocabulary has it.
    func id(for token: String) -> Int? {
        ids[Array(token.utf8)]
    }

    /// The id of the token with these UTF-8 bytes.
    func id<Bytes: Collection<UInt8>>(forBytes bytes: Bytes) -> Int? {
        ids[Array(bytes)]
    }

    /// The token with `id`, or nil when there is none.
    func token(for id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    /// One more than the largest id.
    var upperBound: Int { tokens.count }

    /// The ids of the byte tokens `<0x00>` ... `<0xFF>`, nil for those the vocabulary lacks.
    var byteFallbackIDs: [Int?] {
        (0..<256).map { byte in id(for: byteFallbackToken(UInt8(byte))) }
    }
}

/// The name of a byte-fallback token: `<0x0A>` for a newline.
func byteFallbackToken(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "<0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])>"
}
