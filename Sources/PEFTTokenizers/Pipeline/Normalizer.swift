// The text normalizers of HF `tokenizers` that this module implements.

import Foundation

/// A normalizer from a tokenizer.json `normalizer` entry.
enum Normalizer: Sendable {
    case sequence([Normalizer])
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)
    case replace(pattern: TextPattern, content: String)
    case prepend(String)
    case precompiled(PrecompiledCharsmap)

    /// Reads a normalizer, throwing ``TokenizerError/unsupportedComponent(file:key:type:)`` for
    /// the types this module does not implement (for example `BertNormalizer`).
    init(node: JSONNode) throws(TokenizerError) {
        switch node.typeName {
        case "Sequence":
            var normalizers: [Normalizer] = []
            for child in try node["normalizers"].array() {
                normalizers.append(try Normalizer(node: child))
            }
            self = .sequence(normalizers)
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Strip":
            self = .strip(
                left: try node["strip_left"].bool(default: true),
                right: try node["strip_right"].bool(default: true))
        case "Replace":
            self = .replace(
                pattern: try TextPattern(node: node["pattern"]),
                content: try node["content"].string())
        case "Prepend":
            self = .prepend(try node["prepend"].string())
        case "Precompiled":
            let charsmap = node["precompiled_charsmap"]
            if charsmap.isNull {
                self = .sequence([])
            } else {
                self = .precompiled(
                    try PrecompiledCharsmap(base64: charsmap.string(), node: charsmap))
            }
        default:
            throw node.unsupported()
        }
    }

    /// Returns the normalized form of `text`.
    func normalize(_ text: String) -> String {
        switch self {
        case .sequence(let normalizers):
            return normalizers.reduce(text) { $1.normalize($0) }
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .strip(let left, let right):
            var scalars = Substring(text).unicodeScalars
            if left {
                while let first = scalars.first, first.properties.isWhitespace {
                    scalars.removeFirst()
                }
            }
            if right {
                while let last = scalars.last, last.properties.isWhitespace {
                    scalars.removeLast()
                }
            }
            return String(scalars)
        case .replace(let pattern, let content):
            return pattern.replacingMatches(in: text, with: content)
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .precompiled(let charsmap):
            return charsmap.normalize(text)
        }
    }
}
