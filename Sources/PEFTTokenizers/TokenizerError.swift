/// An error reading a tokenizer's files; each message names the file and, where there is one,
/// the JSON key.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file does not exist or cannot be read.
    case missingFile(file: String)
    /// The file is not valid JSON (an object that repeats a key is not), or not valid UTF-8 text.
    case malformedFile(file: String, reason: String)
    /// A required key is absent, or its value has the wrong type.
    case invalidValue(file: String, key: String, expected: String)
    /// The tokenizer model (`model.type`) is not one this module implements.
    case unsupportedModel(file: String, type: String)
    /// The model is a kind this tokenizer type does not use, such as a Unigram file given to
    /// ``GPT2Tokenizer``.
    case unexpectedModel(file: String, expected: String, found: String)
    /// A component is not one this module implements: `key` says which (for example
    /// `normalizer.normalizers[0]`) and `type` is its `type` field.
    case unsupportedComponent(file: String, key: String, type: String)
    /// Merge number `merge` (counting from 1) uses a token that is not in the vocabulary.
    case mergeOutOfVocabulary(file: String, merge: Int, token: String)

    /// One sentence naming the file, the key and what was wrong.
    public var description: String {
        switch self {
        case .missingFile(let file):
            return "Tokenizer file \(file) does not exist or cannot be read."
        case .malformedFile(let file, let reason):
            return "Tokenizer file \(file) is malformed: \(reason)."
        case .invalidValue(let file, let key, let expected):
            return "Tokenizer file \(file): key \"\(key)\" is missing or is not \(expected)."
        case .unsupportedModel(let file, let type):
            return
                "Tokenizer file \(file): model type \"\(type)\" is not supported "
                + "(supported: BPE, Unigram)."
        case .unexpectedModel(let file, let expected, let found):
            return
                "Tokenizer file \(file): model type is \"\(found)\", but this tokenizer needs "
                + "\"\(expected)\"."
        case .unsupportedComponent(let file, let key, let type):
            return "Tokenizer file \(file): \(key) of type \"\(type)\" is not supported."
        case .mergeOutOfVocabulary(let file, let merge, let token):
            return
                "Tokenizer file \(file): merge \(merge) uses \"\(token)\", which is not in the "
                + "vocabulary."
        }
    }
}
