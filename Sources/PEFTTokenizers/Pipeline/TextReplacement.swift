// Exact, byte-for-byte replacement. Foundation's `replacingOccurrences` and Swift's `==` compare
// strings up to canonical equivalence, which would let "é" match "e\u{301}"; HF does not.

import Foundation

/// What a `Replace` normalizer or decoder looks for: a literal string or a regular expression.
enum TextPattern: @unchecked Sendable {
    case literal([UInt8])
    case regex(NSRegularExpression)

    /// Reads `{"String": ...}` or `{"Regex": ...}` from `node`.
    init(node: JSONNode) throws(TokenizerError) {
        if !node["String"].isNull {
            self = .literal(Array(try node["String"].string().utf8))
        } else if !node["Regex"].isNull {
            let source = try node["Regex"].string()
            do {
                self = .regex(try NSRegularExpression(pattern: source))
            } catch {
                throw node["Regex"].mismatch("a regular expression this module can compile")
            }
        } else {
            throw node.mismatch("an object with a \"String\" or \"Regex\" member")
        }
    }

    /// Returns `text` with every non-overlapping match, from the left, replaced by `content`.
    func replacingMatches(in text: String, with content: String) -> String {
        switch self {
        case .literal(let pattern):
            return Self.replacing(pattern, in: text, with: content)
        case .regex(let expression):
            let range = NSRange(text.startIndex..<text.endIndex, in: text)
            return expression.stringByReplacingMatches(
                in: text, range: range,
                withTemplate: NSRegularExpression.escapedTemplate(for: content))
        }
    }

    static func replacing(_ pattern: [UInt8], in text: String, with content: String) -> String {
        guard !pattern.isEmpty else { return text }
        let bytes = Array(text.utf8)
        guard bytes.count >= pattern.count else { return text }
        let replacement = Array(content.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == pattern[0], index + pattern.count <= bytes.count,
                bytes[index..<index + pattern.count].elementsEqual(pattern)
            {
                result.append(contentsOf: replacement)
                index += pattern.count
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// Returns whether two strings have the same Unicode scalars, unlike `==`.
func scalarsEqual(_ left: String, _ right: String) -> Bool {
    left.utf8.elementsEqual(right.utf8)
}
