import Foundation

/// A model the examples can build from a configuration, pre-train, save as a Hugging Face folder
/// and load back: GPT-2 and T5.
public protocol PretrainableModel: AdaptableModel {
    /// The model's configuration, saved in its recipe.
    associatedtype Configuration: Codable & Equatable

    /// How string-skill examples are written for this kind of model.
    static var exampleFormat: StringTaskGenerator.Format { get }

    /// A randomly initialised model.
    init(configuration: Configuration, seed: UInt64)

    /// Loads a Hugging Face folder.
    init(contentsOf folder: URL) throws

    /// Saves the model as a Hugging Face folder.
    func save(to folder: URL) throws
}

extension GPT2LMHeadModel: PretrainableModel {
    /// A decoder reads the prompt and continues it: `"flip: abc =>"`, then `" cba"`.
    public static var exampleFormat: StringTaskGenerator.Format { .completion }
}

extension T5ForConditionalGeneration: PretrainableModel {
    /// An encoder reads the input and a decoder writes the target: `"flip: abc"`, then `"cba"`.
    public static var exampleFormat: StringTaskGenerator.Format { .inputTarget }
}
