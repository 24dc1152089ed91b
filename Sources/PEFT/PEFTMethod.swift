import PEFTNN

/// A fine-tuning method that attaches its own trainable parts to a model and trains only those.
///
/// Each method has a configuration type (``PEFTConfiguration``, stored as `adapter_config.json`), puts
/// a named adapter into any ``Module`` tree, and lists the adapter's tensors under the keys PEFT writes
/// to `adapter_model.safetensors`. ``PEFTModel`` drives every method through this protocol.
public protocol PEFTMethod {
    /// The method's settings.
    associatedtype Configuration: PEFTConfiguration

    /// Inserts the adapter `adapterName` into `model` and returns the paths of the modules it changed.
    ///
    /// `modelType` (`gpt2`, `t5`) selects the family's default targets. The method does not decide what
    /// trains; the container does, after the adapter exists.
    static func apply(
        _ configuration: inout Configuration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> [String]

    /// The adapter's tensors keyed as in `adapter_model.safetensors`, without the `base_model.model.`
    /// prefix (`transformer.h.0.attn.c_attn.lora_A.weight`).
    static func adapterTensors(
        in model: Module, adapterName: String, configuration: Configuration
    ) -> [(key: String, parameter: Parameter)]
}
