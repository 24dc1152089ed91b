// Added tokens (`<|endoftext|>`, `</s>`, `<extra_id_0>`) are found in the text before the model
// sees it, longest match first, as HF's `AddedVocabulary` does with its Aho-Corasick automaton.

/// One entry of tokenizer.json's `added_tokens`.
struct AddedToken: Sendable {
    var id: Int
    var content: String
    var isSpecial = true
    var isNormalized = false
    var stripsLeft = false
    var stripsRight = false
    var isSingleWord = false

    init(id: Int, content: String, isSpecial: Bool = true) {
        self.id = id
        self.content = content
        self.isSpecial = isSpecial
    }

    init(node: JSONNode) throws(TokenizerError) {
        id = try node["id"].tokenID()
        content = try node["content"].string()
        isSpecial = try node["special"].bool(default: false)
        isNormalized = try node["normalized"].bool(default: !isSpecial)
        stripsLeft = try node["lstrip"].bool(default: false)
        stripsRight = try node["rstrip"].bool(default: false)
        isSingleWord = try node["single_word"].bool(default: false)
    }
}

/// A stretch of input: plain text for the model, or an added token's id.
enum Segment {
    case text(String, startsInput: Bool)
    case token(Int)
}

/// Finds a set of added tokens in text, leftmost-longest, honoring their strip and
/// single-word options.
struct AddedTokenMatcher: Sendable {
    struct Pattern: Sendable {
        let bytes: [UInt8]
        let token: AddedToken
    }

    /// Patterns by first byte, longest first.
    private var patterns: [UInt8: [Pattern]] = [:]

    init(tokens: [AddedToken], contents: (AddedToken) -> String = { $0.content }) {
        for token in tokens {
            let bytes = Array(contents(token).utf8)
            guard let first = bytes.first else { continue }
            patterns[first, default: []].append(Pattern(bytes: bytes, token: token))
        }
        for key in patterns.keys {
            patterns[key]?.sort { $0.bytes.count > $1.bytes.count }
        }
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// Cuts `text` into text and token segments; empty text segments are left out.
    func split(_ text: String, startsInput: Bool) -> [Segment] {
        guard !isEmpty else {
            return text.isEmpty ? [] : [.text(text, startsInput: startsInput)]
        }
        let bytes = Array(text.utf8)
        var segments: [Segment] = []
        var textStart = 0
        var position = 0
        while position < bytes.count {
            guard let match = longestMatch(in: bytes, at: position) else {
                position += 1
                continue
            }
            var start = position
            var end = position + match.bytes.count
            if match.token.isSingleWord, !isWordBoundary(bytes, start: start, end: end) {
                position = end
                continue
            }
            if match.token.stripsLeft {
                while start > textStart, let scalar = lastScalar(bytes, before: start),
                    scalar.value.properties.isWhitespace
                {
                    start -= scalar.length
                }
            }
            if match.token.stripsRight {
                while end < bytes.count, let scalar = firstScalar(bytes, at: end),
                    scalar.value.properties.isWhitespace
                {
                    end += scalar.length
                }
            }
            if start > textStart {
                segments.append(
                    .text(
                        String(decoding: bytes[textStart..<start], as: UTF8.self),
                        startsInput: startsInput && textStart == 0))
            }
            segments.append(.token(match.token.id))
            textStart = end
            position = end
        }
        if textStart < bytes.count {
            segments.append(
                .text(
                    String(decoding: bytes[textStart...], as: UTF8.self),
                    startsInput: startsInput && textStart == 0))
        }
        return segments
    }

    private func longestMatch(in bytes: [UInt8], at position: Int) -> Pattern? {
        guard let candidates = patterns[bytes[position]] else { return nil }
        return candidates.first { pattern in
            position + pattern.bytes.count <= bytes.count
                && bytes[position..<position + pattern.bytes.count].elementsEqual(pattern.bytes)
        }
    }

    /// Whether neither side of `start..<end` touches a word character (alphanumeric or `_`).
    private func isWordBoundary(_ bytes: [UInt8], start: Int, end: Int) -> Bool {
        func isWord(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
        }
        let before = lastScalar(bytes, before: start).map { isWord($0.value) } ?? false
        let after = firstScalar(bytes, at: end).map { isWord($0.value) } ?? false
        return !before && !after
    }
}

/// The scalar that starts at byte `position` of valid UTF-8, and its length in bytes.
func firstScalar(_ bytes: [UInt8], at position: Int) -> (value: Unicode.Scalar, length: Int)? {
    guard position < bytes.count else { return nil }
    let length = utf8Length(leadingByte: bytes[position])
    guard position + length <= bytes.count else { return nil }
    let text = String(decoding: bytes[position..<position + length], as: UTF8.self)
    return text.unicodeScalars.first.map { ($0, length) }
}

/// The scalar that ends just before byte `position` of valid UTF-8, and its length in bytes.
func lastScalar(_ bytes: [UInt8], before position: Int) -> (value: Unicode.Scalar, length: Int)? {
    guard position > 0 else { return nil }
    var start = position - 1
    while start > 0, bytes[start] & 0xC0 == 0x80 { start -= 1 }
    return firstScalar(bytes, at: start)
}
