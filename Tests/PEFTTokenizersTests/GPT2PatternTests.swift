import Testing

@testable import PEFTTokenizers

@Suite("GPT-2 pre-tokenization pattern")
struct GPT2PatternTests {
    @Test(
        "Text splits as GPT-2's regex splits it",
        arguments: [
            ("Hello world", ["Hello", " world"]),
            ("I'll don't we're", ["I", "'ll", " don", "'t", " we", "'re"]),
            ("I'LL", ["I", "'", "LL"]),
            ("a  b", ["a", " ", " b"]),
            ("a \n b", ["a", " \n", " b"]),
            ("trailing   ", ["trailing", "   "]),
            ("x\n\ny", ["x", "\n", "\n", "y"]),
            ("x\n\n", ["x", "\n\n"]),
            ("abc123def", ["abc", "123", "def"]),
            ("!!'s", ["!!'", "s"]),
            ("e\u{301}t\u{e9}", ["e", "\u{301}", "t\u{e9}"]),
            ("東京 ①", ["東京", " ①"]),
            ("a\u{a0}b", ["a", "\u{a0}", "b"]),
        ])
    func split(text: String, pieces: [String]) {
        let actual = GPT2Pattern.split(text)
        #expect(actual.count == pieces.count, "\(actual) vs \(pieces)")
        for (piece, expected) in zip(actual, pieces) {
            expectSameScalars(piece, expected)
        }
    }

    @Test("The byte-level alphabet maps the 256 bytes to distinct characters and back")
    func alphabet() {
        #expect(Set(ByteLevelAlphabet.characters).count == 256)
        #expect(ByteLevelAlphabet.encode([32, 10, 65]) == "ĠĊA")
        let bytes = [UInt8](0...255)
        #expect(ByteLevelAlphabet.decode(ByteLevelAlphabet.encode(bytes)) == bytes)
    }
}
