import Foundation

/// Opens the tokenizer of a Hugging Face model folder, whatever its style, as `transformers`'
/// `AutoTokenizer` would.
///
/// - A folder with `vocab.json` and `merges.txt` but no `tokenizer.json` gives a
///   ``GPT2Tokenizer``.
/// - A `Unigram` tokenizer.json gives a ``T5Tokenizer``.
/// - A byte-level BPE tokenizer.json without a `tokenizer_config.json` gives a ``GPT2Tokenizer``
///   (its `<|endoftext|>` starts and ends sequences).
/// - Any other BPE file (Llama 2 and 3, Mistral, Qwen2, TinyLlama, SmolLM, or GPT-2 with its
///   config) gives a ``HuggingFaceTokenizer``, which honours `tokenizer_config.json`.
///
/// ```swift
/// let tokenizer = try loadTokenizer(contentsOf: folder)
/// let ids = tokenizer.encode("Hello")  // the ids `tokenizer("Hello")` gives in transformers
/// ```
///
/// - Throws: ``TokenizerError`` naming the file (and key) that is missing or wrong.
public func loadTokenizer(contentsOf folder: URL) throws(TokenizerError) -> any PipelineTokenizer {
    let tokenizerFile = folder.appendingPathComponent("tokenizer.json")
    let configurationFile = folder.appendingPathComponent("tokenizer_config.json")
    let files = FileManager.default
    guard files.fileExists(atPath: tokenizerFile.path) else {
        if files.fileExists(atPath: folder.appendingPathComponent("vocab.json").path) {
            return try GPT2Tokenizer(contentsOf: folder)
        }
        throw .missingFile(file: tokenizerFile.path)
    }
    let configuration = try TokenizerConfiguration(contentsOf: configurationFile)
    let pipeline = try TokenizerPipeline(contentsOf: tokenizerFile)
    if case .unigram = pipeline.model {
        return T5Tokenizer(pipeline: pipeline)
    }
    if !files.fileExists(atPath: configurationFile.path), pipeline.isByteLevel,
        pipeline.id(for: GPT2Tokenizer.endOfText) != nil
    {
        return GPT2Tokenizer(pipeline: pipeline)
    }
    return HuggingFaceTokenizer(pipeline: pipeline, configuration: configuration)
}
