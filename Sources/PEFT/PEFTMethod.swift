import PEFTNN

/// A fine-tuning method that attaches its own trainable parts to a model and trains only those.
///
/// Each method has a configuration type (``PEFTConfiguration``, stored as `adapter_config.json`), puts
/// a named adapter into any `Module` tree (wrapping layers, like LoRA) or beside it (a prompt encoder,
/// like prompt tuning), and lists the adapter's tensors under the keys PEFT writes to
/// `adapter_model.safetensors`. ``PEFTModel`` drives every method through this protocol.
public protocol PEFTMethod {
    /// The method's settings.
    associatedtype Configuration: PEFTConfiguration

    /// Inserts the adapter `adapterName` into `model`; returns the prompt encoder the container keeps
    /// beside the model for methods that change the inputs instead of the layers, or `nil`.
    ///
    /// `modelType` (`gpt2`, `t5`) selects the family's default targets. The method does not decide what
    /// trains; the container does, after the adapter exists.
    static func apply(
        _ configuration: inout Configuration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)?

    /// The adapter's tensors inside the model, keyed as in `adapter_model.safetensors`
    /// (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`); empty for prompt methods, whose
    /// file holds the encoder's `prompt_embeddings`.
    static func adapterTensors(
        in model: Module, adapterName: String, configuration: Configuration
    ) -> [(key: String, parameter: Parameter)]
}

extension PEFTMethod {
    /// Methods that do not touch the model's layers have no tensors inside it.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: Configuration
    ) -> [(key: String, parameter: Parameter)] { [] }
}
