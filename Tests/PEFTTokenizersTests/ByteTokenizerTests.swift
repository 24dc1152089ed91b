import Testing

@testable import PEFTTokenizers

@Suite("ByteTokenizer")
struct ByteTokenizerTests {
    let tokenizer = ByteTokenizer()

    @Test("Every fixture string survives a round trip through its UTF-8 bytes")
    func roundTrip() {
        for testCase in Fixtures.expected["gpt2-bpe"]!.cases {
            let ids = tokenizer.encode(testCase.text)
            #expect(ids == testCase.text.utf8.map { Int($0) })
            expectSameScalars(tokenizer.decode(ids), testCase.text)
        }
    }

    @Test("Special ids sit after the bytes and decode to nothing")
    func specialTokens() {
        #expect(tokenizer.vocabularySize == 258)
        #expect(tokenizer.padTokenID == 256)
        #expect(tokenizer.eosTokenID == 257)
        #expect(tokenizer.bosTokenID == 257)
        #expect(tokenizer.encode("hi", appendingEndOfSequence: true) == [104, 105, 257])
        #expect(tokenizer.decode([104, 256, 105, 257, 999, -3]) == "hi")
    }
}
