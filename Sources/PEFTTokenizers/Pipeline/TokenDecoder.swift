// Decoders turn the tokens of an id sequence back into text, undoing the pre-tokenizer: the
// byte-level alphabet, Metaspace's "▁", byte-fallback tokens.

/// A decoder from a tokenizer.json `decoder` entry.
enum TokenDecoder: Sendable {
    case sequence([TokenDecoder])
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, scheme: PrependScheme)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(pattern: TextPattern, content: String)

    /// Reads a decoder, throwing ``TokenizerError/unsupportedComponent(file:key:type:)`` for
    /// the types this module does not implement (for example `WordPiece`).
    init(node: JSONNode) throws(TokenizerError) {
        switch node.typeName {
        case "Sequence":
            var decoders: [TokenDecoder] = []
            for child in try node["decoders"].array() {
                decoders.append(try TokenDecoder(node: child))
            }
            self = .sequence(decoders)
        case "ByteLevel":
            self = .byteLevel
        case "Metaspace":
            self = .metaspace(
                replacement: try metaspaceReplacement(node["replacement"]),
                scheme: try PrependScheme(node: node))
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            let content = try node["content"].string()
            guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first
            else { throw node["content"].mismatch("a single character") }
            self = .strip(
                content: scalar, start: try node["start"].count(), stop: try node["stop"].count())
        case "Replace":
            self = .replace(
                pattern: try TextPattern(node: node["pattern"]),
                content: try node["content"].string())
        default:
            throw node.unsupported()
        }
    }

    /// Whether this decoder, or one in its sequence, maps the byte-level alphabet back to bytes.
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let decoders): return decoders.contains { $0.isByteLevel }
        default: return false
        }
    }

    /// Returns the decoded form of each token; the text is their concatenation.
    func decode(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let decoders):
            return decoders.reduce(tokens) { $1.decode($0) }
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                bytes.append(contentsOf: ByteLevelAlphabet.decode(token) ?? Array(token.utf8))
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { index, token in
                var scalars = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement {
                        scalars.append(scalar)
                    } else if index != 0 || scheme == .never {
                        scalars.append(" ")
                    }
                }
                return String(scalars)
            }
        case .byteFallback:
            return Self.decodeByteTokens(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var first = 0
                while first < min(start, scalars.count), scalars[first] == content { first += 1 }
                var last = scalars.count
                while scalars.count - last < stop, last > first, scalars[last - 1] == content {
                    last -= 1
                }
                return String(String.UnicodeScalarView(scalars[first..<last]))
            }
        case .replace(let pattern, let content):
            return tokens.map { pattern.replacingMatches(in: $0, with: content) }
        }
    }

    /// Joins runs of `<0xXX>` tokens into the text their bytes spell, or one U+FFFD per byte
    /// when the bytes are not valid UTF-8, as HF's `ByteFallback` does.
    static func decodeByteTokens(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = byteValue(ofFallbackToken: token) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// The byte of a `<0xXX>` token.
    static func byteValue(ofFallbackToken token: String) -> UInt8? {
        let bytes = Array(token.utf8)
        guard bytes.count == 6, bytes.starts(with: Array("<0x".utf8)), bytes[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: bytes[3..<5], as: UTF8.self), radix: 16)
    }
}
