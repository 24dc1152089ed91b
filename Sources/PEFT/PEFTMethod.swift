import Foundation
import PEFTNN

/// A fine-tuning method that attaches its own trainable parts to a model and trains only those.
///
/// A method is three pieces, and none of them needs to live in this library: its configuration type
/// (``PEFTConfiguration``, whose ``PEFTConfiguration/Method`` names the method), its adapter layer
/// (an ``AdapterLayer``, usually through ``AdapterSetLayer``), and ``apply(_:in:)``, which puts the
/// layers in place. ``PEFTModel`` then adds, switches, disables, deletes, saves, loads and merges the
/// method's adapters through these protocols alone.
public protocol PEFTMethod {
    /// The method's settings.
    associatedtype Configuration: PEFTConfiguration

    /// Inserts the adapter ``AdapterContext/adapterName`` into ``AdapterContext/model``, and returns
    /// what the container keeps beside the model for it: a prompt encoder for methods that change the
    /// inputs instead of the layers, shared tensors for methods whose layers share them, or nothing.
    ///
    /// The method may fill in values it resolved (default targets, `fan_in_fan_out`), which are saved.
    /// It does not decide what trains; the container does, after the adapter exists.
    static func apply(_ configuration: inout Configuration, in context: AdapterContext) throws
        -> AdapterAttachment

    /// The adapter's tensors inside the model, keyed as in `adapter_model.safetensors`
    /// (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`).
    ///
    /// The default lists every adapter layer's ``AdapterLayer/adapterParameters(named:)`` under
    /// ``AdapterFolder/keyPrefix`` and the layer's path.
    static func adapterTensors(
        in model: Module, adapterName: String, configuration: Configuration
    ) -> [(key: String, parameter: Parameter)]

    /// Whether the method's adapters fold into the base weights (``PEFTModel/merge(adapters:safe:)``).
    static var mergesIntoBase: Bool { get }

    /// Reads the adapter's weights when the method keeps them in a layout of its own; returns `false`
    /// (the default) to have ``adapterTensors(in:adapterName:configuration:)`` filled from
    /// `adapter_model.safetensors` by key.
    static func loadWeights(
        from folder: URL, into model: Module, configuration: Configuration,
        attachment: AdapterAttachment
    ) throws -> Bool

    /// Writes the adapter's weights in a layout of its own (configuration included); returns `false`
    /// (the default) to have the container write `adapter_model.safetensors` and
    /// `adapter_config.json`.
    static func saveWeights(
        to folder: URL, from model: Module, configuration: Configuration,
        attachment: AdapterAttachment
    ) throws -> Bool

    /// The method's work in each training step besides the forward pass, for the adapter
    /// `adapterName` (AdaLoRA's regulariser and rank allocation); `record` stores a configuration the
    /// hook changed in the container. The default is `nil`: nothing to do.
    static func trainingStepHook(
        in model: Module, adapterName: String, configuration: Configuration,
        record: @escaping (Configuration) -> Void
    ) throws -> (any TrainingStepHook)?
}

extension PEFTMethod {
    /// Every adapter layer's tensors for the adapter, keyed as PEFT saves them.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: Configuration
    ) -> [(key: String, parameter: Parameter)] {
        layerTensors(in: model, adapterName: adapterName)
    }

    /// Methods do not merge unless they say so.
    public static var mergesIntoBase: Bool { false }

    /// The standard layout.
    public static func loadWeights(
        from folder: URL, into model: Module, configuration: Configuration,
        attachment: AdapterAttachment
    ) throws -> Bool { false }

    /// The standard layout.
    public static func saveWeights(
        to folder: URL, from model: Module, configuration: Configuration,
        attachment: AdapterAttachment
    ) throws -> Bool { false }

    /// No per-step work.
    public static func trainingStepHook(
        in model: Module, adapterName: String, configuration: Configuration,
        record: @escaping (Configuration) -> Void
    ) throws -> (any TrainingStepHook)? { nil }

    /// The biases PEFT's `bias` option saves beside the adapter, keyed as PEFT saves them:
    /// `wrappedLayers` adds the bias of each layer that carries `adapterName` (its
    /// `base_layer.bias`), `allBiases` every bias in the model.
    public static func biasTensors(
        in model: Module, adapterName: String, wrappedLayers: Bool, allBiases: Bool
    ) -> [(key: String, parameter: Parameter)] {
        if allBiases {
            return model.namedParameters().compactMap { path, parameter in
                path.hasSuffix(".bias") || path == "bias"
                    ? (AdapterFolder.keyPrefix + path, parameter) : nil
            }
        }
        guard wrappedLayers else { return [] }
        return model.namedModules().compactMap { path, module in
            guard let layer = module as? any AdapterLayer, layer.adapterNames.contains(adapterName),
                let bias = layer.baseModule.namedParameters().first(where: { $0.path == "bias" })
            else { return nil }
            return (AdapterFolder.keyPrefix + "\(path).base_layer.bias", bias.parameter)
        }
    }

    /// The tensors of every adapter layer that carries `adapterName`, keyed as PEFT saves them.
    public static func layerTensors(in model: Module, adapterName: String) -> [(
        key: String, parameter: Parameter
    )] {
        model.namedModules().flatMap { path, module -> [(key: String, parameter: Parameter)] in
            guard let layer = module as? any AdapterLayer, layer.adapterNames.contains(adapterName)
            else { return [] }
            return layer.adapterParameters(named: adapterName).map {
                (AdapterFolder.keyPrefix + "\(path).\($0.key)", $0.parameter)
            }
        }
    }
}
