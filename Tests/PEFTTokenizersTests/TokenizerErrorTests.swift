import Foundation
import Testing

@testable import PEFTTokenizers

@Suite("TokenizerError")
struct TokenizerErrorTests {
    /// A minimal valid byte-level BPE tokenizer.json with one part replaced.
    static func bpeFile(normalizer: String = "null", model: String? = nil) -> String {
        let defaultModel = """
            {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}
            """
        return """
            {"added_tokens": [], "normalizer": \(normalizer),
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
             "post_processor": null, "decoder": {"type": "ByteLevel"},
             "model": \(model ?? defaultModel)}
            """
    }

    static func load(_ contents: String) throws -> GPT2Tokenizer {
        let folder = try temporaryFolder(with: ["tokenizer.json": contents])
        return try GPT2Tokenizer(contentsOf: folder)
    }

    @Test("The minimal file used below loads and merges")
    func minimalFileLoads() throws {
        #expect(try Self.load(Self.bpeFile()).encode("ab") == [2])
    }

    @Test(
        "A token id outside 0..<2²⁴ or a negative count throws invalidValue (fuzzing found the trap)",
        arguments: [
            bpeFile(model: #"{"type": "BPE", "vocab": {"a": -1}, "merges": []}"#),
            bpeFile(model: #"{"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}"#),
            bpeFile().replacingOccurrences(
                of: #""added_tokens": []"#,
                with: #""added_tokens": [{"id": -3, "content": "<x>", "special": true}]"#),
            bpeFile().replacingOccurrences(
                of: #""decoder": {"type": "ByteLevel"}"#,
                with: #""decoder": {"type": "Strip", "content": " ", "start": -1, "stop": 0}"#),
        ])
    func outOfRangeNumbers(file: String) throws {
        #expect {
            try Self.load(file)
        } throws: { error in
            guard case .invalidValue(let file, _, let expected) = error as? TokenizerError else {
                return false
            }
            return file.hasSuffix("tokenizer.json")
                && (expected.contains("token id") || expected.contains("count"))
        }
    }

    @Test("A missing file throws missingFile naming the path")
    func missingFile() throws {
        let folder = try temporaryFolder(with: [:])
        #expect {
            try T5Tokenizer(contentsOf: folder)
        } throws: { error in
            guard case .missingFile(let file) = error as? TokenizerError else { return false }
            return file.hasSuffix("tokenizer.json") && "\(error)".contains("tokenizer.json")
        }
        #expect(
            throws: TokenizerError.missingFile(
                file: folder.appendingPathComponent("merges.txt").path)
        ) {
            try GPT2Tokenizer(
                vocabularyFile: Fixtures.url("gpt2-bpe/vocab.json"),
                mergesFile: folder.appendingPathComponent("merges.txt"))
        }
    }

    @Test("Malformed JSON throws malformedFile naming the file and the byte offset")
    func malformedJSON() {
        for broken in [
            #"{"model": {"type": "BPE", "vocab": {"#, "", "[1, 2,]", #"{"a": "\ud800"}"#,
        ] {
            #expect {
                try Self.load(broken)
            } throws: { error in
                guard case .malformedFile(let file, let reason) = error as? TokenizerError else {
                    return false
                }
                return file == "tokenizer.json" && reason.contains("at byte")
            }
        }
    }

    @Test("An unsupported or unexpected model type throws an error naming the type")
    func unsupportedModel() {
        let wordPiece = #"{"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}"#
        #expect(throws: TokenizerError.unsupportedModel(file: "tokenizer.json", type: "WordPiece"))
        {
            try Self.load(Self.bpeFile(model: wordPiece))
        }
        #expect(
            throws: TokenizerError.unexpectedModel(
                file: "tokenizer.json", expected: "BPE", found: "Unigram")
        ) {
            try GPT2Tokenizer(tokenizerFile: Fixtures.url("t5-unigram/tokenizer.json"))
        }
        #expect(
            throws: TokenizerError.unexpectedModel(
                file: "tokenizer.json", expected: "Unigram", found: "BPE")
        ) {
            try T5Tokenizer(tokenizerFile: Fixtures.url("gpt2-bpe/tokenizer.json"))
        }
    }

    @Test("An unsupported normalizer throws unsupportedComponent naming its key and type")
    func unsupportedNormalizer() {
        let nested =
            #"{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "BertNormalizer"}]}"#
        let expected = TokenizerError.unsupportedComponent(
            file: "tokenizer.json", key: "normalizer.normalizers[1]", type: "BertNormalizer")
        #expect(throws: expected) {
            try Self.load(Self.bpeFile(normalizer: nested))
        }
        #expect("\(expected)".contains("normalizer.normalizers[1]"))
        #expect("\(expected)".contains("BertNormalizer"))
    }

    @Test("A missing or mistyped key throws invalidValue naming the key")
    func invalidValue() {
        #expect(
            throws: TokenizerError.invalidValue(
                file: "tokenizer.json", key: "model.vocab", expected: "an object")
        ) {
            try Self.load(Self.bpeFile(model: #"{"type": "BPE", "merges": []}"#))
        }
        #expect(
            throws: TokenizerError.invalidValue(
                file: "tokenizer.json", key: "model.merges[0]", expected: "a string")
        ) {
            try Self.load(
                Self.bpeFile(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [7]}"#))
        }
    }

    @Test("A merge of tokens outside the vocabulary throws mergeOutOfVocabulary")
    func mergeOutOfVocabulary() throws {
        let folder = try temporaryFolder(with: [
            "vocab.json": #"{"a": 0, "b": 1}"#, "merges.txt": "#version: 0.2\na b\n",
        ])
        #expect(
            throws: TokenizerError.mergeOutOfVocabulary(file: "merges.txt", merge: 1, token: "ab")
        ) {
            try GPT2Tokenizer(contentsOf: folder)
        }
    }
}
