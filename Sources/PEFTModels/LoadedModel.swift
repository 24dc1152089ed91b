import Foundation
import PEFTNN
import PEFTTensor

/// A model loaded from a folder whose family is known only from its `config.json`.
public enum LoadedModel {
    /// A GPT-2-family decoder.
    case gpt2(GPT2LMHeadModel)
    /// A T5-family encoder-decoder.
    case t5(T5ForConditionalGeneration)
    /// A Llama-family decoder (Llama, Mistral, Qwen2, Qwen3).
    case llama(LlamaForCausalLM)

    /// The `model_type` values this library loads.
    public static let supportedModelTypes = ["gpt2", "t5"] + LlamaForCausalLM.supportedModelTypes

    /// Loads the model in `folder`, dispatching on `model_type`.
    ///
    /// `baseFormat` stores every weight matrix (linear layers, embeddings, the output head) frozen in
    /// bf16, int8 or NF4 as it is read, for a QLoRA-style low-precision base; norms and biases stay fp32.
    public init(contentsOf folder: URL, baseFormat: FrozenWeightFormat) throws {
        self = try withFrozenWeights(baseFormat) { try Self(loading: folder) }
    }

    /// Loads the model in `folder` with Float32 weights, dispatching on `model_type`.
    public init(contentsOf folder: URL) throws {
        try self.init(loading: folder)
    }

    private init(loading folder: URL) throws {
        let checkpoint = try CheckpointFolder(folder)
        switch checkpoint.modelType {
        case "gpt2": self = .gpt2(try GPT2LMHeadModel(checkpoint: checkpoint))
        case "t5": self = .t5(try T5ForConditionalGeneration(checkpoint: checkpoint))
        case let type where LlamaForCausalLM.supportedModelTypes.contains(type):
            self = .llama(try LlamaForCausalLM(checkpoint: checkpoint))
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
        case .llama(let model): model
        }
    }

    /// The model when it is decoder-only.
    public var causal: (any CausalLanguageModel & AdaptableModel)? {
        switch self {
        case .gpt2(let model): model
        case .llama(let model): model
        case .t5: nil
        }
    }

    /// The model when it is an encoder-decoder.
    public var seq2Seq: (any Seq2SeqLanguageModel & AdaptableModel)? {
        if case .t5(let model) = self { return model }
        return nil
    }

    /// Saves the model as a Hugging Face folder.
    public func save(to folder: URL) throws { try save(to: folder, bfloat16: false) }

    /// Saves the model as a Hugging Face folder, its weights in F32 or (`bfloat16`) BF16.
    public func save(to folder: URL, bfloat16: Bool) throws {
        switch self {
        case .gpt2(let model): try model.save(to: folder, bfloat16: bfloat16)
        case .t5(let model): try model.save(to: folder, bfloat16: bfloat16)
        case .llama(let model): try model.save(to: folder, bfloat16: bfloat16)
        }
    }

    /// The number of token ids the model embeds.
    public var vocabularySize: Int {
        switch self {
        case .gpt2(let model): model.configuration.vocabularySize
        case .t5(let model): model.configuration.vocabularySize
        case .llama(let model): model.configuration.vocabularySize
        }
    }
}
