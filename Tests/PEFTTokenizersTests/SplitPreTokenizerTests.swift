import Foundation
import Testing

@testable import PEFTTokenizers

@Suite("Split pre-tokenizer and the Llama 3 / Qwen2 patterns")
struct SplitPreTokenizerTests {
    static let llama3 = Llama3Pattern(digitRun: 3)

    // Expected pieces are what HF `tokenizers` 0.23.3 (Oniguruma) gives for Llama 3's regex.
    @Test(
        "Text splits as Llama 3's regex splits it",
        arguments: [
            ("'ſx", ["'ſ", "x"]),
            ("'LL 'Re I'M", ["'LL", " '", "Re", " I", "'M"]),
            (" \r\n  x", [" \r\n", " ", " x"]),
            ("a\t\tb", ["a", "\t", "\tb"]),
            ("12345", ["123", "45"]),
            ("a \n\n b", ["a", " \n\n", " b"]),
            ("!!!\n\nx", ["!!!\n\n", "x"]),
            ("x\u{a0}y", ["x", "\u{a0}y"]),
            ("x  ", ["x", "  "]),
            ("  \r", ["  \r"]),
            ("a\u{301}", ["a", "\u{301}"]),
            ("\u{301}x", ["\u{301}x"]),
            ("\rx", ["\r", "x"]),
            ("don't", ["don", "'t"]),
        ])
    func llama3Split(text: String, pieces: [String]) {
        let actual = Self.llama3.split(text)
        #expect(actual.count == pieces.count, "\(actual) vs \(pieces)")
        for (piece, expected) in zip(actual, pieces) {
            expectSameScalars(piece, expected)
        }
    }

    @Test("Qwen2's pattern takes one digit at a time")
    func qwen2Digits() {
        #expect(Llama3Pattern(digitRun: 1).split("x 2024!") == ["x", " ", "2", "0", "2", "4", "!"])
        #expect(Llama3Pattern(source: Llama3Pattern.qwen2Source)?.digitRun == 1)
        #expect(Llama3Pattern(source: Llama3Pattern.llama3Source)?.digitRun == 3)
    }

    static func split(_ text: String, _ behavior: SplitBehavior, invert: Bool = false) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let pattern = SplitPattern.literal(Array("-".unicodeScalars))
        return behavior.pieces(
            count: scalars.count, matches: pattern.matches(in: scalars), invert: invert
        ).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    @Test("Each split behavior cuts the-final--countdown as HF does")
    func behaviors() {
        let text = "the-final--countdown"
        #expect(Self.split(text, .removed) == ["the", "final", "countdown"])
        #expect(Self.split(text, .isolated) == ["the", "-", "final", "-", "-", "countdown"])
        #expect(Self.split(text, .mergedWithPrevious) == ["the-", "final-", "-", "countdown"])
        #expect(Self.split(text, .mergedWithNext) == ["the", "-final", "-", "-countdown"])
        #expect(Self.split(text, .contiguous) == ["the", "-", "final", "--", "countdown"])
        #expect(Self.split(text, .removed, invert: true) == ["-", "-", "-"])
    }

    @Test("Split, Digits and other regexes read from tokenizer.json")
    func readsFromJSON() throws {
        func preTokenizer(_ json: String) throws -> PreTokenizer {
            try PreTokenizer(node: JSONNode(parsing: Array(json.utf8), file: "tokenizer.json"))
        }
        func pieces(_ preTokenizer: PreTokenizer, _ text: String) -> [String] {
            preTokenizer.split([PreToken(text: text, startsInput: true)]).map(\.text)
        }
        let digits = try preTokenizer(#"{"type": "Digits", "individual_digits": true}"#)
        #expect(pieces(digits, "a12b") == ["a", "1", "2", "b"])
        let runs = try preTokenizer(#"{"type": "Digits", "individual_digits": false}"#)
        #expect(pieces(runs, "a12b") == ["a", "12", "b"])
        let gpt2Source = SplitPattern.gpt2Source.replacingOccurrences(of: "\\", with: "\\\\")
        let gpt2 = try preTokenizer(
            #"{"type": "Split", "pattern": {"Regex": "\#(gpt2Source)"}, "behavior": "Isolated"}"#)
        let text = "I'll go  now 123 éa\n"
        #expect(pieces(gpt2, text) == GPT2Pattern.split(text))
        guard case .split(.gpt2, .isolated, false) = gpt2 else {
            Issue.record("GPT-2's regex did not get the hand-written matcher: \(gpt2)")
            return
        }
        let icu = try preTokenizer(
            #"{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": false}"#
        )
        #expect(pieces(icu, "a  b😀 c") == ["a", "b😀", "c"])
        #expect {
            try preTokenizer(
                #"{"type": "Split", "pattern": {"Regex": "x"}, "behavior": "Sideways", "invert": false}"#
            )
        } throws: { error in
            guard case .invalidValue(let file, let key, _) = error as? TokenizerError else {
                return false
            }
            return file == "tokenizer.json" && key == "behavior"
        }
        #expect {
            try preTokenizer(
                #"{"type": "Split", "pattern": {"Regex": "(("}, "behavior": "Isolated"}"#)
        } throws: { error in
            guard case .invalidValue(_, let key, _) = error as? TokenizerError else { return false }
            return key == "pattern.Regex"
        }
    }

    @Test("Splitting 100 KB of mixed text is linear, not pathological")
    func speed() {
        let unit =
            "Hello, world! It's 2024.\r\n  \t日本語 😀 café    x\n\n"
            + String(repeating: " ", count: 50)
        var text = ""
        while text.utf8.count < 100_000 { text += unit }
        let spaces = String(repeating: " ", count: 100_000) + "x"
        let clock = ContinuousClock()
        var pieces = 0
        let elapsed = clock.measure {
            pieces += Self.llama3.split(text).count
            pieces += Self.llama3.split(spaces).count
        }
        #expect(pieces > 1000)
        #expect(elapsed < .seconds(5), "splitting 2 × 100 KB took \(elapsed)")
        print("Llama 3 split of 2 × 100 KB: \(elapsed)")
    }
}
