import Foundation

/// A model loaded from a folder whose family is known only from its `config.json`.
public enum LoadedModel {
    /// A GPT-2-family decoder.
    case gpt2(GPT2LMHeadModel)
    /// A T5-family encoder-decoder.
    case t5(T5ForConditionalGeneration)

    /// The `model_type` values this library loads.
    public static let supportedModelTypes = ["gpt2", "t5"]

    /// Loads the model in `folder`, dispatching on `model_type`.
    public init(contentsOf folder: URL) throws {
        let checkpoint = try CheckpointFolder(folder)
        switch checkpoint.modelType {
        case "gpt2": self = .gpt2(try GPT2LMHeadModel(checkpoint: checkpoint))
        case "t5": self = .t5(try T5ForConditionalGeneration(checkpoint: checkpoint))
        default:
            throw ModelLoadingError.unsupportedModelType(
                file: checkpoint.configurationPath, modelType: checkpoint.modelType,
                supported: Self.supportedModelTypes)
        }
    }

    /// The model, as the family description PEFT methods work with.
    public var model: any AdaptableModel {
        switch self {
        case .gpt2(let model): model
        case .t5(let model): model
        }
    }

    /// The number of token ids the model embeds.
    public var vocabularySize: Int {
        switch self {
        case .gpt2(let model): model.configuration.vocabularySize
        case .t5(let model): model.configuration.vocabularySize
        }
    }
}
