import Foundation
import PEFT

/// The tokenizer saved beside a model, in whichever style its files are written (GPT-2's byte-level
/// BPE, T5's Unigram, a Llama-family `tokenizer.json`).
func modelTokenizer(for loaded: LoadedModel, in folder: URL) throws -> any PipelineTokenizer {
    try loadTokenizer(contentsOf: folder)
}
