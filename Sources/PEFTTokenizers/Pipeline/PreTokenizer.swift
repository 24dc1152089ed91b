// The pre-tokenizers of HF `tokenizers` that this module implements. They cut normalized text
// into the pieces the model then tokenizes one by one.

/// A piece of text on its way to the model.
struct PreToken {
    var text: String
    /// Whether the piece begins the whole input, which Metaspace's `"first"` scheme asks.
    var startsInput: Bool
}

/// When Metaspace puts its replacement character in front of a piece.
enum PrependScheme: Sendable {
    case always, never, first

    /// Reads `prepend_scheme`, or the older `add_prefix_space` Boolean.
    init(node: JSONNode) throws(TokenizerError) {
        let scheme = node["prepend_scheme"]
        if scheme.isNull {
            self = try node["add_prefix_space"].bool(default: true) ? .always : .never
            return
        }
        switch try scheme.string() {
        case "always": self = .always
        case "never": self = .never
        case "first": self = .first
        default: throw scheme.mismatch("\"always\", \"never\" or \"first\"")
        }
    }
}

/// A pre-tokenizer from a tokenizer.json `pre_tokenizer` entry.
enum PreTokenizer: Sendable {
    case sequence([PreTokenizer])
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case metaspace(replacement: Unicode.Scalar, scheme: PrependScheme, split: Bool)
    case whitespaceSplit
    case split(pattern: SplitPattern, behavior: SplitBehavior, invert: Bool)

    /// Reads a pre-tokenizer, throwing ``TokenizerError/unsupportedComponent(file:key:type:)``
    /// for the types this module does not implement.
    init(node: JSONNode) throws(TokenizerError) {
        switch node.typeName {
        case "Sequence":
            var pretokenizers: [PreTokenizer] = []
            for child in try node["pretokenizers"].array() {
                pretokenizers.append(try PreTokenizer(node: child))
            }
            self = .sequence(pretokenizers)
        case "ByteLevel":
            self = .byteLevel(
                addPrefixSpace: try node["add_prefix_space"].bool(default: true),
                useRegex: try node["use_regex"].bool(default: true))
        case "Metaspace":
            self = .metaspace(
                replacement: try metaspaceReplacement(node["replacement"]),
                scheme: try PrependScheme(node: node),
                split: try node["split"].bool(default: true))
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Split":
            self = .split(
                pattern: try SplitPattern(node: node["pattern"]),
                behavior: try SplitBehavior(node: node["behavior"]),
                invert: try node["invert"].bool(default: false))
        case "Digits":
            let individual = try node["individual_digits"].bool(default: false)
            self = .split(
                pattern: .digits, behavior: individual ? .isolated : .contiguous, invert: false)
        default:
            throw node.unsupported()
        }
    }

    /// Whether the pieces come out written in the byte-level alphabet.
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let pretokenizers): return pretokenizers.contains { $0.isByteLevel }
        default: return false
        }
    }

    /// Cuts each piece further; empty pieces are dropped, as HF drops them.
    func split(_ pieces: [PreToken]) -> [PreToken] {
        switch self {
        case .sequence(let pretokenizers):
            return pretokenizers.reduce(pieces) { $1.split($0) }
        default:
            return pieces.flatMap(split).filter { !$0.text.isEmpty }
        }
    }

    func split(_ piece: PreToken) -> [PreToken] {
        switch self {
        case .sequence:
            return split([piece])
        case .byteLevel(let addPrefixSpace, let useRegex):
            var text = piece.text
            if addPrefixSpace, text.utf8.first != UInt8(ascii: " ") {
                text = " " + text
            }
            let parts = useRegex ? GPT2Pattern.split(text) : [text]
            return parts.enumerated().map { index, part in
                PreToken(
                    text: ByteLevelAlphabet.encode(part.utf8),
                    startsInput: piece.startsInput && index == 0)
            }
        case .metaspace(let replacement, let scheme, let split):
            var scalars = String.UnicodeScalarView()
            let prepend: Bool
            switch scheme {
            case .always: prepend = true
            case .never: prepend = false
            case .first: prepend = piece.startsInput
            }
            var sawFirst = false
            for scalar in piece.text.unicodeScalars {
                let mapped = scalar == " " ? replacement : scalar
                if !sawFirst {
                    sawFirst = true
                    if prepend, mapped != replacement { scalars.append(replacement) }
                }
                scalars.append(mapped)
            }
            guard split else {
                return [PreToken(text: String(scalars), startsInput: piece.startsInput)]
            }
            return Self.splitMergingWithNext(
                scalars, delimiter: replacement, startsInput: piece.startsInput)
        case .split(let pattern, let behavior, let invert):
            let scalars = Array(piece.text.unicodeScalars)
            let ranges = behavior.pieces(
                count: scalars.count, matches: pattern.matches(in: scalars), invert: invert)
            return ranges.map { range in
                PreToken(
                    text: String(String.UnicodeScalarView(scalars[range])),
                    startsInput: piece.startsInput && range.lowerBound == 0)
            }
        case .whitespaceSplit:
            var pieces: [PreToken] = []
            var current = String.UnicodeScalarView()
            var startsInput = piece.startsInput
            for scalar in piece.text.unicodeScalars {
                if scalar.properties.isWhitespace {
                    if !current.isEmpty {
                        pieces.append(PreToken(text: String(current), startsInput: startsInput))
                        current = String.UnicodeScalarView()
                    }
                    startsInput = false
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty {
                pieces.append(PreToken(text: String(current), startsInput: startsInput))
            }
            return pieces
        }
    }

    /// HF's `MergedWithNext` split on one character: each run of delimiters starts a new piece.
    static func splitMergingWithNext(
        _ scalars: String.UnicodeScalarView, delimiter: Unicode.Scalar, startsInput: Bool
    ) -> [PreToken] {
        var pieces: [PreToken] = []
        var current = String.UnicodeScalarView()
        var previousWasDelimiter = false
        for scalar in scalars {
            let isDelimiter = scalar == delimiter
            if isDelimiter, !previousWasDelimiter, !current.isEmpty {
                pieces.append(
                    PreToken(text: String(current), startsInput: startsInput && pieces.isEmpty))
                current = String.UnicodeScalarView()
            }
            current.append(scalar)
            previousWasDelimiter = isDelimiter
        }
        if !current.isEmpty {
            pieces.append(
                PreToken(text: String(current), startsInput: startsInput && pieces.isEmpty))
        }
        return pieces
    }
}

/// Reads a Metaspace `replacement`, which must be a single character.
func metaspaceReplacement(_ node: JSONNode) throws(TokenizerError) -> Unicode.Scalar {
    let text = node.isNull ? "\u{2581}" : try node.string()
    guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
        throw node.mismatch("a single character")
    }
    return scalar
}
