// The fixtures that Scripts/fixtures/make_tokenizer_fixtures.py writes with Hugging Face
// `tokenizers`, and comparisons that do not hide differences behind canonical equivalence.

import Foundation
import PEFTTestSupport
import Testing

/// Expected results for one tokenizer fixture, as written by the fixture script.
struct ExpectedTokenizer: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let idsWithoutSpecialTokens: [Int]
        let decoded: String
        let decodedSkippingSpecialTokens: String

        enum CodingKeys: String, CodingKey {
            case text, ids, decoded
            case idsWithoutSpecialTokens = "ids_without_special_tokens"
            case decodedSkippingSpecialTokens = "decoded_skipping_special_tokens"
        }
    }

    let vocabularySize: Int
    let cases: [Case]

    enum CodingKeys: String, CodingKey {
        case cases
        case vocabularySize = "vocabulary_size"
    }
}

enum Fixtures {
    /// The fixture folder inside the test bundle.
    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// A tokenizer's folder: `gpt2-bpe`, `t5-unigram` or `t5-precompiled`.
    static func url(_ name: String) -> URL {
        folder.appendingPathComponent(name)
    }

    /// The expected ids, read once; a missing or malformed file stops the suite with a message naming
    /// it, since the parity tests' arguments are built from it.
    static let expected: [String: ExpectedTokenizer] = {
        let url = folder.appendingPathComponent("expected.json")
        do {
            return try JSONDecoder().decode(
                [String: ExpectedTokenizer].self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure(
                "\(url.path) could not be read (\(error)); regenerate it with Scripts/fixtures/make_tokenizer_fixtures.py"
            )
        }
    }()
}

/// Expects `actual` and `expected` to have the same Unicode scalars; Swift's `==` would accept
/// any canonically equivalent string.
func expectSameScalars(
    _ actual: String, _ expected: String, _ context: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.unicodeScalars.elementsEqual(expected.unicodeScalars),
        "\(context) got \(actual.debugDescription), expected \(expected.debugDescription)",
        sourceLocation: sourceLocation)
}

/// A fresh temporary folder holding `files` (name to contents).
func temporaryFolder(with files: [String: String]) throws -> URL {
    let folder =
        testScratchRoot
        .appendingPathComponent("peft-tokenizers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, contents) in files {
        try contents.write(
            to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return folder
}
