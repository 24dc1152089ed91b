import Foundation
import Testing

@testable import PEFTTokenizers

@Suite("T5Tokenizer")
struct T5TokenizerTests {
    /// The Unigram fixtures: one trained by `tokenizers`, one converted from SentencePiece with
    /// a `Precompiled` normalizer and the legacy Metaspace options, as the hub's t5-small.
    static let fixtures = ["t5-unigram", "t5-precompiled"].filter { Fixtures.expected[$0] != nil }

    static func tokenizer(_ name: String) throws -> T5Tokenizer {
        try T5Tokenizer(contentsOf: Fixtures.url(name))
    }

    @Test("Encoding gives Hugging Face's ids for every fixture string", arguments: fixtures)
    func parity(fixture: String) throws {
        let tokenizer = try Self.tokenizer(fixture)
        for testCase in Fixtures.expected[fixture]!.cases {
            #expect(
                tokenizer.encode(testCase.text) == testCase.ids, "\(testCase.text.debugDescription)"
            )
            #expect(
                tokenizer.encode(testCase.text, addingSpecialTokens: false)
                    == testCase.idsWithoutSpecialTokens, "\(testCase.text.debugDescription)")
        }
    }

    @Test(
        "Decoding gives Hugging Face's text, with and without special tokens", arguments: fixtures)
    func decoding(fixture: String) throws {
        let tokenizer = try Self.tokenizer(fixture)
        for testCase in Fixtures.expected[fixture]!.cases {
            expectSameScalars(tokenizer.decode(testCase.ids), testCase.decoded, testCase.text)
            expectSameScalars(
                tokenizer.decode(testCase.ids, skippingSpecialTokens: true),
                testCase.decodedSkippingSpecialTokens, testCase.text)
        }
    }

    @Test("Special tokens have T5's ids and encode appends </s>", arguments: fixtures)
    func specialTokens(fixture: String) throws {
        let tokenizer = try Self.tokenizer(fixture)
        #expect(tokenizer.padTokenID == 0)
        #expect(tokenizer.eosTokenID == 1)
        #expect(tokenizer.unknownTokenID == 2)
        #expect(tokenizer.bosTokenID == nil)
        #expect(tokenizer.encode("") == [1])
        #expect(tokenizer.encode("hello").last == 1)
        let sentinel = try #require(tokenizer.sentinelTokenID(0))
        #expect(sentinel == tokenizer.vocabularySize - 1)
        #expect(tokenizer.encode("<extra_id_0>", addingSpecialTokens: false) == [sentinel])
        #expect(tokenizer.token(for: sentinel) == "<extra_id_0>")
    }

    @Test("The vocabulary size is Hugging Face's", arguments: fixtures)
    func vocabularySize(fixture: String) throws {
        #expect(
            try Self.tokenizer(fixture).vocabularySize == Fixtures.expected[fixture]!.vocabularySize
        )
    }

    @Test("Long inputs encode in reasonable time")
    func longInput() throws {
        let tokenizer = try Self.tokenizer("t5-unigram")
        let text = String(
            repeating: "Parameter-efficient fine-tuning, naïve café 42. ", count: 2_000)
        let clock = ContinuousClock()
        var ids: [Int] = []
        let elapsed = clock.measure { ids = tokenizer.encode(text) }
        #expect(elapsed < .seconds(10))
        #expect(
            tokenizer.decode(ids, skippingSpecialTokens: true)
                == text.trimmingCharacters(in: .whitespaces))
    }
}
