// What a `Split` pre-tokenizer looks for. Llama 3's, Qwen2's and GPT-2's regexes run through
// hand-written matchers; any other regex runs through ICU (NSRegularExpression), whose Unicode
// tables may differ from the Oniguruma engine HF uses in rare characters.

import Foundation

/// The pattern of a `Split` pre-tokenizer: a literal string, a known regex, or any other regex.
enum SplitPattern: @unchecked Sendable {
    case literal([Unicode.Scalar])
    case llama3(Llama3Pattern)
    case gpt2
    /// Each character of general category N on its own, for the `Digits` pre-tokenizer.
    case digits
    case regex(NSRegularExpression)

    /// GPT-2's regex as tokenizer.json files spell it when they split with it explicitly.
    static let gpt2Source =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Reads `{"String": ...}` or `{"Regex": ...}`.
    init(node: JSONNode) throws(TokenizerError) {
        if !node["String"].isNull {
            self = .literal(Array(try node["String"].string().unicodeScalars))
            return
        }
        guard !node["Regex"].isNull else {
            throw node.mismatch("an object with a \"String\" or \"Regex\" member")
        }
        let source = try node["Regex"].string()
        if let pattern = Llama3Pattern(source: source) {
            self = .llama3(pattern)
        } else if source == Self.gpt2Source {
            self = .gpt2
        } else {
            do {
                self = .regex(try NSRegularExpression(pattern: source))
            } catch {
                throw node["Regex"].mismatch("a regular expression this module can compile")
            }
        }
    }

    /// The scalar ranges of the non-overlapping matches in `scalars`, from the left.
    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .literal(let pattern):
            guard let first = pattern.first else { return [] }
            var ranges: [Range<Int>] = []
            var index = 0
            while index + pattern.count <= scalars.count {
                if scalars[index] == first,
                    scalars[index..<index + pattern.count].elementsEqual(pattern)
                {
                    ranges.append(index..<index + pattern.count)
                    index += pattern.count
                } else {
                    index += 1
                }
            }
            return ranges
        case .llama3(let pattern):
            return pattern.matches(in: scalars)
        case .gpt2:
            let classes = scalars.map(GPT2Pattern.classify)
            var ranges: [Range<Int>] = []
            var start = 0
            while start < scalars.count {
                let end = GPT2Pattern.matchEnd(at: start, scalars: scalars, classes: classes)
                ranges.append(start..<end)
                start = end
            }
            return ranges
        case .digits:
            return scalars.indices.compactMap { index in
                GPT2Pattern.classify(scalars[index]) == .number ? index..<index + 1 : nil
            }
        case .regex(let expression):
            return Self.regexMatches(expression, in: scalars)
        }
    }

    /// Runs an ICU regex over UTF-16 and maps its matches back to scalar indices.
    static func regexMatches(
        _ expression: NSRegularExpression, in scalars: [Unicode.Scalar]
    ) -> [Range<Int>] {
        let text = String(String.UnicodeScalarView(scalars))
        // UTF-16 offset of each scalar boundary, so matches map back without searching.
        var scalarAtUTF16: [Int: Int] = [:]
        var offset = 0
        for (index, scalar) in scalars.enumerated() {
            scalarAtUTF16[offset] = index
            offset += scalar.utf16.count
        }
        scalarAtUTF16[offset] = scalars.count
        let whole = NSRange(location: 0, length: offset)
        return expression.matches(in: text, range: whole).compactMap { match in
            guard let start = scalarAtUTF16[match.range.location],
                let end = scalarAtUTF16[match.range.location + match.range.length], start < end
            else { return nil }
            return start..<end
        }
    }
}
