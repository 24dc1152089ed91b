import Foundation
import Testing

@testable import PEFTTokenizers

@Suite("GPT2Tokenizer")
struct GPT2TokenizerTests {
    static let expected = Fixtures.expected["gpt2-bpe"]!

    let tokenizer: GPT2Tokenizer

    init() throws {
        tokenizer = try GPT2Tokenizer(tokenizerFile: Fixtures.url("gpt2-bpe/tokenizer.json"))
    }

    @Test("Encoding gives Hugging Face's ids for every fixture string")
    func parity() {
        for testCase in Self.expected.cases {
            #expect(
                tokenizer.encode(testCase.text) == testCase.ids, "\(testCase.text.debugDescription)"
            )
            #expect(
                tokenizer.encode(testCase.text, addingSpecialTokens: false)
                    == testCase.idsWithoutSpecialTokens, "\(testCase.text.debugDescription)")
        }
    }

    @Test("Loading vocab.json and merges.txt gives the same ids as loading tokenizer.json")
    func twoFileFormat() throws {
        let original = try GPT2Tokenizer(
            vocabularyFile: Fixtures.url("gpt2-bpe/vocab.json"),
            mergesFile: Fixtures.url("gpt2-bpe/merges.txt"))
        for testCase in Self.expected.cases {
            #expect(
                original.encode(testCase.text) == testCase.ids, "\(testCase.text.debugDescription)")
            #expect(original.encode(testCase.text) == tokenizer.encode(testCase.text))
        }
        #expect(original.vocabularySize == tokenizer.vocabularySize)
        #expect(original.endOfTextTokenID == tokenizer.endOfTextTokenID)
    }

    @Test("A folder loads from tokenizer.json, or from vocab.json and merges.txt without it")
    func folderLoading() throws {
        let fromFolder = try GPT2Tokenizer(contentsOf: Fixtures.url("gpt2-bpe"))
        let vocabulary = try String(
            contentsOf: Fixtures.url("gpt2-bpe/vocab.json"), encoding: .utf8)
        let merges = try String(contentsOf: Fixtures.url("gpt2-bpe/merges.txt"), encoding: .utf8)
        let twoFiles = try temporaryFolder(with: ["vocab.json": vocabulary, "merges.txt": merges])
        let fromTwoFiles = try GPT2Tokenizer(contentsOf: twoFiles)
        let text = "Hello, world! Don't panic.<|endoftext|>"
        #expect(fromFolder.encode(text) == tokenizer.encode(text))
        #expect(fromTwoFiles.encode(text) == tokenizer.encode(text))
    }

    @Test("Decoding gives back the encoded text and matches Hugging Face's decoding")
    func roundTrip() {
        for testCase in Self.expected.cases {
            let ids = tokenizer.encode(testCase.text)
            expectSameScalars(tokenizer.decode(ids), testCase.text)
            expectSameScalars(tokenizer.decode(ids), testCase.decoded)
            expectSameScalars(
                tokenizer.decode(ids, skippingSpecialTokens: true),
                testCase.decodedSkippingSpecialTokens)
        }
        let unseen = "Ünïcödé ✓ 𝔘 \u{0}\u{7F}\r\n\u{2028}🏳️‍🌈 e\u{301}\u{301} ﷽"
        expectSameScalars(tokenizer.decode(tokenizer.encode(unseen)), unseen)
    }

    @Test("<|endoftext|> is one special token that starts and ends sequences")
    func endOfText() throws {
        let id = try #require(tokenizer.endOfTextTokenID)
        #expect(tokenizer.eosTokenID == id)
        #expect(tokenizer.bosTokenID == id)
        #expect(tokenizer.padTokenID == nil)
        #expect(tokenizer.encode("<|endoftext|>") == [id])
        #expect(tokenizer.encode("a<|endoftext|>b").filter { $0 == id }.count == 1)
        #expect(tokenizer.decode([id], skippingSpecialTokens: true) == "")
        #expect(tokenizer.token(for: id) == "<|endoftext|>")
        #expect(tokenizer.id(for: "Ġ") != nil)
    }

    @Test("The vocabulary size is Hugging Face's")
    func vocabularySize() {
        #expect(tokenizer.vocabularySize == Self.expected.vocabularySize)
    }

    @Test("Unknown ids decode to nothing instead of crashing")
    func unknownIDs() {
        #expect(tokenizer.decode([-1, 1_000_000]) == "")
    }

    @Test("Long inputs encode in reasonable time and survive a round trip")
    func longInput() {
        let oneWord = String(repeating: "ab", count: 50_000)
        let clock = ContinuousClock()
        var ids: [Int] = []
        let elapsed = clock.measure { ids = tokenizer.encode(oneWord) }
        #expect(tokenizer.decode(ids) == oneWord)
        #expect(elapsed < .seconds(10))
        let prose = String(
            repeating: "The quick brown fox, naïve café 東京 😀 jumps 42 times.\n", count: 2_000)
        #expect(tokenizer.decode(tokenizer.encode(prose)) == prose)
    }
}
