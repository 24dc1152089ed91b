import Foundation
import Testing

@testable import PEFTTokenizers

/// A Llama-family fixture's expected.json: what `AutoTokenizer.from_pretrained(folder)` gave.
struct LlamaFamilyExpected: Decodable {
    let transformersClass: String
    let bosTokenID: Int?
    let eosTokenID: Int?
    let padTokenID: Int?
    let vocabularySize: Int
    let cases: [ExpectedTokenizer.Case]

    enum CodingKeys: String, CodingKey {
        case cases
        case transformersClass = "transformers_class"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
        case vocabularySize = "vocabulary_size"
    }

    static func load(_ name: String) throws -> LlamaFamilyExpected {
        let url = Fixtures.url(name).appendingPathComponent("expected.json")
        return try JSONDecoder().decode(Self.self, from: Data(contentsOf: url))
    }
}

@Suite("HuggingFaceTokenizer on Llama-family fixtures")
struct HuggingFaceTokenizerTests {
    static let fixtures = [
        "llama3-bpe", "qwen2-bpe", "llama2-spm", "tinyllama-spm", "mistral-metaspace",
    ]

    @Test("Encoding gives transformers' ids, with and without special tokens", arguments: fixtures)
    func parity(name: String) throws {
        let expected = try LlamaFamilyExpected.load(name)
        let tokenizer = try HuggingFaceTokenizer(contentsOf: Fixtures.url(name))
        #expect(expected.cases.count >= 30)
        for testCase in expected.cases {
            #expect(
                tokenizer.encode(testCase.text) == testCase.ids,
                "\(name): \(testCase.text.debugDescription)")
            #expect(
                tokenizer.encode(testCase.text, addingSpecialTokens: false)
                    == testCase.idsWithoutSpecialTokens,
                "\(name): \(testCase.text.debugDescription)")
        }
    }

    @Test("Decoding matches transformers, with and without special tokens", arguments: fixtures)
    func decoding(name: String) throws {
        let expected = try LlamaFamilyExpected.load(name)
        let tokenizer = try HuggingFaceTokenizer(contentsOf: Fixtures.url(name))
        for testCase in expected.cases {
            expectSameScalars(tokenizer.decode(testCase.ids), testCase.decoded, name)
            expectSameScalars(
                tokenizer.decode(testCase.ids, skippingSpecialTokens: true),
                testCase.decodedSkippingSpecialTokens, name)
        }
    }

    @Test("Special token ids and the vocabulary size are transformers'", arguments: fixtures)
    func specialTokens(name: String) throws {
        let expected = try LlamaFamilyExpected.load(name)
        let tokenizer = try HuggingFaceTokenizer(contentsOf: Fixtures.url(name))
        #expect(tokenizer.bosTokenID == expected.bosTokenID)
        #expect(tokenizer.eosTokenID == expected.eosTokenID)
        #expect(tokenizer.padTokenID == expected.padTokenID)
        #expect(tokenizer.vocabularySize == expected.vocabularySize)
    }

    @Test("loadTokenizer picks the tokenizer type from the folder's files")
    func loadsByStyle() throws {
        for name in Self.fixtures {
            let tokenizer = try loadTokenizer(contentsOf: Fixtures.url(name))
            #expect(tokenizer is HuggingFaceTokenizer, "\(name)")
            let expected = try LlamaFamilyExpected.load(name)
            #expect(tokenizer.encode(expected.cases[3].text) == expected.cases[3].ids)
        }
        #expect(try loadTokenizer(contentsOf: Fixtures.url("gpt2-bpe")) is GPT2Tokenizer)
        #expect(try loadTokenizer(contentsOf: Fixtures.url("t5-unigram")) is T5Tokenizer)
        let vocabulary = try String(
            contentsOf: Fixtures.url("gpt2-bpe/vocab.json"), encoding: .utf8)
        let merges = try String(contentsOf: Fixtures.url("gpt2-bpe/merges.txt"), encoding: .utf8)
        let twoFiles = try temporaryFolder(with: ["vocab.json": vocabulary, "merges.txt": merges])
        #expect(try loadTokenizer(contentsOf: twoFiles) is GPT2Tokenizer)
    }

    @Test("A LlamaTokenizer folder runs Metaspace like transformers, not the file's Prepend")
    func llamaTokenizerClass() throws {
        let asClass = try HuggingFaceTokenizer(contentsOf: Fixtures.url("llama2-spm"))
        let asFile = try HuggingFaceTokenizer(contentsOf: Fixtures.url("tinyllama-spm"))
        let text = "a</s>b a"
        let eos = try #require(asClass.eosTokenID)
        // After an added token, transformers' Metaspace("first") gives "b", the file's "▁b".
        #expect(
            asClass.encode(text, addingSpecialTokens: false).map { asClass.token(for: $0)! }
                .split(separator: asClass.token(for: eos)!).map(Array.init)[1].first == "b")
        #expect(
            asFile.encode(text, addingSpecialTokens: false).map { asFile.token(for: $0)! }
                .split(separator: asFile.token(for: eos)!).map(Array.init)[1].first == "▁b")
    }

    @Test("tokenizer_config.json tokens may be strings, objects with content, or null")
    func configurationForms() throws {
        let file = try String(
            contentsOf: Fixtures.url("llama2-spm/tokenizer.json"), encoding: .utf8)
        let folder = try temporaryFolder(with: [
            "tokenizer.json": file,
            "tokenizer_config.json": """
            {"tokenizer_class": "LlamaTokenizerFast",
             "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
             "eos_token": "</s>", "pad_token": null}
            """,
        ])
        let tokenizer = try HuggingFaceTokenizer(contentsOf: folder)
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.padTokenID == nil)
        #expect(tokenizer.unknownTokenID == 0)
        #expect(tokenizer.encode("Hello").first == 1)
    }

    @Test("Without tokenizer_config.json, BOS comes from the post-processor's template")
    func withoutConfiguration() throws {
        let file = try String(
            contentsOf: Fixtures.url("llama3-bpe/tokenizer.json"), encoding: .utf8)
        let folder = try temporaryFolder(with: ["tokenizer.json": file])
        let tokenizer = try loadTokenizer(contentsOf: folder)
        let expected = try LlamaFamilyExpected.load("llama3-bpe")
        #expect(tokenizer.bosTokenID == expected.bosTokenID)
        #expect(tokenizer.eosTokenID == nil)
        #expect(tokenizer.encode("Hello world") == expected.cases[2].ids)
    }

    @Test("A bad tokenizer_config.json throws naming the file and the key")
    func badConfiguration() throws {
        let file = try String(
            contentsOf: Fixtures.url("llama2-spm/tokenizer.json"), encoding: .utf8)
        let cases: [(String, String)] = [
            (#"{"bos_token": 5}"#, "bos_token"),
            (#"{"tokenizer_class": ["x"]}"#, "tokenizer_class"),
            (#"{"legacy": "no"}"#, "legacy"),
            (#"{"bos_token": {"text": "<s>"}}"#, "bos_token"),
        ]
        for (configuration, key) in cases {
            let folder = try temporaryFolder(with: [
                "tokenizer.json": file, "tokenizer_config.json": configuration,
            ])
            #expect {
                try loadTokenizer(contentsOf: folder)
            } throws: { error in
                guard case .invalidValue(let name, let path, _) = error as? TokenizerError else {
                    return false
                }
                return name == "tokenizer_config.json" && path == key
            }
        }
        let broken = try temporaryFolder(with: [
            "tokenizer.json": file, "tokenizer_config.json": "{ not json",
        ])
        #expect {
            try loadTokenizer(contentsOf: broken)
        } throws: { error in
            guard case .malformedFile(let name, _) = error as? TokenizerError else { return false }
            return name == "tokenizer_config.json"
        }
        let empty = try temporaryFolder(with: [:])
        #expect {
            try loadTokenizer(contentsOf: empty)
        } throws: { error in
            guard case .missingFile(let name) = error as? TokenizerError else { return false }
            return name.hasSuffix("tokenizer.json")
        }
    }
}
