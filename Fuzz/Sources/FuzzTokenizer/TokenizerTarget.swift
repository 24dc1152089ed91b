import FuzzSupport
import Foundation
import PEFT

/// Any bytes as a `tokenizer.json`: loading must throw or give a tokenizer that encodes and decodes
/// text, every id inside its vocabulary.
func fuzzTokenizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    _ = FuzzInput.file("tokenizer.json", containing: FuzzInput.data(start, count))
    guard let tokenizer = try? loadTokenizer(contentsOf: FuzzInput.scratchFolder) else { return 0 }
    for text in ["", "Hello, world!", " a  b\n\tc", "naïve café 東京 🙂", "<|endoftext|></s>"] {
        let ids = tokenizer.encode(text)
        precondition(
            ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize },
            "ids \(ids) outside the vocabulary of \(tokenizer.vocabularySize)")
        _ = tokenizer.decode(ids)
    }
    return 0
}
