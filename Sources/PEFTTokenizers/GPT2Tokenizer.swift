import Foundation

/// GPT-2's byte-level BPE tokenizer, matching Hugging Face's id for id.
///
/// Text is cut by GPT-2's pre-tokenization regex, each piece's UTF-8 bytes are written in the
/// byte-level alphabet, and BPE merges them by rank. `<|endoftext|>` in the text is its own
/// token. Any string survives a round trip:
///
/// ```swift
/// // tokenizer.json, or vocab.json + merges.txt
/// let tokenizer = try GPT2Tokenizer(contentsOf: folder)
/// let ids = tokenizer.encode("Hello world<|endoftext|>")  // ends with eosTokenID
/// tokenizer.decode(ids)                                   // "Hello world<|endoftext|>"
/// ```
///
/// Any tokenizer.json whose model is `BPE` loads, as long as its components are ones this module
/// implements; others throw ``TokenizerError/unsupportedComponent(file:key:type:)``.
public struct GPT2Tokenizer: PipelineTokenizer {
    /// GPT-2's end-of-text token, which also starts sequences.
    public static let endOfText = "<|endoftext|>"

    /// The stages read from the tokenizer's files.
    public let pipeline: TokenizerPipeline

    /// Loads `tokenizer.json` from `directory` if it is there, else `vocab.json` and
    /// `merges.txt`.
    public init(contentsOf directory: URL) throws(TokenizerError) {
        let tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerFile.path) {
            try self.init(tokenizerFile: tokenizerFile)
        } else {
            try self.init(
                vocabularyFile: directory.appendingPathComponent("vocab.json"),
                mergesFile: directory.appendingPathComponent("merges.txt"))
        }
    }

    /// Loads a Hugging Face tokenizer.json whose model is `BPE`.
    public init(tokenizerFile: URL) throws(TokenizerError) {
        let pipeline = try TokenizerPipeline(contentsOf: tokenizerFile)
        guard case .bytePairEncoding = pipeline.model else {
            throw .unexpectedModel(
                file: tokenizerFile.lastPathComponent, expected: "BPE", found: "Unigram")
        }
        self.pipeline = pipeline
    }

    /// Wraps stages already read, whose model is the one this tokenizer needs.
    init(pipeline: TokenizerPipeline) {
        self.pipeline = pipeline
    }

    /// Loads GPT-2's original files: `vocab.json` (token to id) and `merges.txt` (one merge per
    /// line, by rank, after an optional `#version` line), as Hugging Face's `GPT2Tokenizer` does.
    public init(vocabularyFile: URL, mergesFile: URL) throws(TokenizerError) {
        let vocabularyNode = try JSONNode.load(contentsOf: vocabularyFile)
        var vocabulary = Vocabulary()
        for (token, id) in try vocabularyNode.members() {
            vocabulary.insert(token, id: try id.tokenID())
        }
        let mergesName = mergesFile.lastPathComponent
        guard
            let text = String(
                validating: try JSONNode.readData(contentsOf: mergesFile), as: UTF8.self)
        else { throw .malformedFile(file: mergesName, reason: "not valid UTF-8") }
        var merges: [(String, String)] = []
        for (index, rawLine) in text.split(separator: "\n").enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty || line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .malformedFile(
                    file: mergesName, reason: "line \(index + 1) is not two tokens split by a space"
                )
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let model = try BytePairEncoding(
            vocabulary: vocabulary, merges: merges, unknownToken: nil, fuseUnknown: false,
            byteFallback: false, ignoreMerges: false, file: mergesName)
        let endOfText = vocabulary.id(for: Self.endOfText).map {
            AddedToken(id: $0, content: Self.endOfText)
        }
        pipeline = TokenizerPipeline(
            addedTokens: endOfText.map { [$0] } ?? [], normalizer: nil,
            preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true),
            model: .bytePairEncoding(model), postProcessor: nil, decoder: .byteLevel)
    }

    /// The id of `<|endoftext|>`, if the vocabulary has it.
    public var endOfTextTokenID: Int? { pipeline.id(for: Self.endOfText) }

    /// The id of `<|endoftext|>`, which GPT-2 uses to start sequences too.
    public var bosTokenID: Int? { endOfTextTokenID }

    /// The id of `<|endoftext|>`.
    public var eosTokenID: Int? { endOfTextTokenID }

}
