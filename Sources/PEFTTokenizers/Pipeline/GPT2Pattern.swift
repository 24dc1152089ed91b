// GPT-2's pre-tokenization regex, written out by hand:
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// The alternatives are tried in order at each position, as the regex engine does, with
// Unicode general categories for \p{L} and \p{N} and the White_Space property for \s, which is
// what Python's `regex` and HF's Oniguruma use.

/// Splits text the way GPT-2's pre-tokenization regex does.
enum GPT2Pattern {
    /// The class of a scalar, as the regex sees it.
    enum ScalarClass {
        case letter, number, whitespace, other
    }

    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 0x80 {
            switch value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .whitespace
            default: return .other
            }
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return scalar.properties.isWhitespace ? .whitespace : .other
        }
    }

    /// Returns the pieces of `text`, in order; they concatenate back to `text`.
    static func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(classify)
        var pieces: [String] = []
        var start = 0
        while start < scalars.count {
            let end = matchEnd(at: start, scalars: scalars, classes: classes)
            pieces.append(String(String.UnicodeScalarView(scalars[start..<end])))
            start = end
        }
        return pieces
    }

    /// The end of the regex match that starts at `start`; one alternative always matches.
    static func matchEnd(at start: Int, scalars: [Unicode.Scalar], classes: [ScalarClass]) -> Int {
        let count = scalars.count
        if let end = contractionEnd(at: start, scalars: scalars) {
            return end
        }
        // ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+`, in that order.
        for wanted in [ScalarClass.letter, .number, .other] {
            var first = start
            if scalars[start] == " ", start + 1 < count, classes[start + 1] == wanted {
                first = start + 1
            }
            guard classes[first] == wanted else { continue }
            var end = first + 1
            while end < count, classes[end] == wanted { end += 1 }
            return end
        }
        // `\s+(?!\S)`, then `\s+`: a run of whitespace gives up its last character when
        // non-whitespace follows, so that a space can lead the next word.
        var end = start + 1
        while end < count, classes[end] == .whitespace { end += 1 }
        if end < count, end - start >= 2 {
            return end - 1
        }
        return end
    }

    /// The end of `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll` or `'d` at `start`, if one is there.
    static func contractionEnd(at start: Int, scalars: [Unicode.Scalar]) -> Int? {
        guard scalars[start] == "'", start + 1 < scalars.count else { return nil }
        switch scalars[start + 1] {
        case "s", "t", "m", "d":
            return start + 2
        case "r", "v", "l":
            let second: Unicode.Scalar = scalars[start + 1] == "l" ? "l" : "e"
            if start + 2 < scalars.count, scalars[start + 2] == second {
                return start + 3
            }
            return nil
        default:
            return nil
        }
    }
}
