// The pre-tokenization regex of Llama 3 and Qwen2 (Split, `Isolated`), written out by hand:
//     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//     ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Qwen2's differs only in taking one digit at a time (`\p{N}`). The alternatives are tried in
// order at each position, as Oniguruma does; a hand-written matcher is linear in the text and
// avoids the differences between ICU's and Oniguruma's Unicode tables.

/// Splits text the way Llama 3's (or, with `digitRun` 1, Qwen2's) pre-tokenization regex does.
struct Llama3Pattern: Sendable {
    /// The longest run of digits one piece takes: 3 for Llama 3, 1 for Qwen2.
    let digitRun: Int

    /// Llama 3's regex, as its tokenizer.json spells it.
    static let llama3Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Qwen2's regex, as its tokenizer.json spells it.
    static let qwen2Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The matcher for a regex source, if it is one of the two.
    init?(source: String) {
        switch source {
        case Self.llama3Source: digitRun = 3
        case Self.qwen2Source: digitRun = 1
        default: return nil
        }
    }

    init(digitRun: Int) {
        self.digitRun = digitRun
    }

    /// The scalar ranges of the matches in `scalars`; they tile the text, since `\s+` and the
    /// other alternatives together match any character.
    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(GPT2Pattern.classify)
        var ranges: [Range<Int>] = []
        var start = 0
        while start < scalars.count {
            let end = matchEnd(at: start, scalars: scalars, classes: classes)
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// The pieces of `text`, in order.
    func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return matches(in: scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\r" || scalar == "\n"
    }

    func matchEnd(
        at start: Int, scalars: [Unicode.Scalar], classes: [GPT2Pattern.ScalarClass]
    ) -> Int {
        let count = scalars.count
        if let end = Self.contractionEnd(at: start, scalars: scalars) {
            return end
        }
        // `[^\r\n\p{L}\p{N}]?\p{L}+`: one optional character that is neither a line break, a
        // letter nor a digit (a space, a tab, punctuation), then letters.
        var letters = start
        if classes[start] != .letter, classes[start] != .number, !Self.isLineBreak(scalars[start]),
            start + 1 < count, classes[start + 1] == .letter
        {
            letters = start + 1
        }
        if classes[letters] == .letter {
            var end = letters + 1
            while end < count, classes[end] == .letter { end += 1 }
            return end
        }
        // `\p{N}{1,3}` (or `\p{N}`).
        if classes[start] == .number {
            var end = start + 1
            while end < count, end - start < digitRun, classes[end] == .number { end += 1 }
            return end
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`.
        var other = start
        if scalars[start] == " ", start + 1 < count, classes[start + 1] == .other {
            other = start + 1
        }
        if classes[other] == .other {
            var end = other + 1
            while end < count, classes[end] == .other { end += 1 }
            while end < count, Self.isLineBreak(scalars[end]) { end += 1 }
            return end
        }
        // Only whitespace is left. `\s*[\r\n]+` ends after the run's last line break; without one,
        // `\s+(?!\S)` leaves the run's last character to lead the next piece, and `\s+` takes a
        // lone one.
        var runEnd = start + 1
        while runEnd < count, classes[runEnd] == .whitespace { runEnd += 1 }
        if let lastBreak = (start..<runEnd).last(where: { Self.isLineBreak(scalars[$0]) }) {
            return lastBreak + 1
        }
        if runEnd < count, runEnd - start >= 2 {
            return runEnd - 1
        }
        return runEnd
    }

    /// The end of a contraction at `start`, in any case; `ſ` (long s) folds to `s` as in
    /// Oniguruma's case-insensitive matching.
    static func contractionEnd(at start: Int, scalars: [Unicode.Scalar]) -> Int? {
        guard scalars[start] == "'", start + 1 < scalars.count else { return nil }
        func folded(_ index: Int) -> Unicode.Scalar? {
            guard index < scalars.count else { return nil }
            let scalar = scalars[index]
            if scalar == "\u{17F}" { return "s" }
            guard scalar.isASCII else { return nil }
            return Unicode.Scalar(UInt8(scalar.value) | (scalar.properties.isUppercase ? 0x20 : 0))
        }
        switch folded(start + 1) {
        case "s", "t", "m", "d":
            return start + 2
        case "r", "v":
            return folded(start + 2) == "e" ? start + 3 : nil
        case "l":
            return folded(start + 2) == "l" ? start + 3 : nil
        default:
            return nil
        }
    }
}
