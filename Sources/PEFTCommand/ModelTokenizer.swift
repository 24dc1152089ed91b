import Foundation
import PEFT

/// The tokenizer saved beside a model: GPT-2's byte-level BPE, T5's Unigram, or the Llama family's
/// `tokenizer.json` in whichever style it is written.
func modelTokenizer(for loaded: LoadedModel, in folder: URL) throws -> any Tokenizer {
    switch loaded {
    case .gpt2: try GPT2Tokenizer(contentsOf: folder)
    case .t5: try T5Tokenizer(contentsOf: folder)
    case .llama: throw CommandError("\(folder.path): Llama-family tokenizers are not wired in yet")
    }
}
