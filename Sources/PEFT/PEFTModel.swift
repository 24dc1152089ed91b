import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor

/// A base model with named adapters: Hugging Face PEFT's `PeftModel`.
///
/// Layer methods (LoRA) change the base model in place (their targets are wrapped) and the base stays
/// usable directly; prompt methods keep a prompt encoder here and change the inputs, so run the model
/// through this container (``logits(_:)``, ``encode(_:)``, ``decode(_:encoderOutput:encoderMask:)``,
/// `generate`). The container decides which adapter is active and trainable, switches adapters off for a
/// scope, saves and loads adapter folders, and merges. Exactly one adapter trains at a time: the active one.
public final class PEFTModel {
    /// The model the adapters live in.
    public let base: Module
    /// The `model_type` used for default targets, if the model is a known family.
    public let modelType: String?
    /// Each adapter's configuration, by name.
    public internal(set) var configurations: [String: any PEFTConfiguration] = [:]
    /// Adapter names in the order they were added.
    public internal(set) var adapterNames: [String] = []
    /// The adapter the model runs with and trains.
    public private(set) var activeAdapter: String
    /// Prompt encoders of prompt-learning adapters, by adapter name.
    public internal(set) var promptEncoders: [String: any PromptLearningEncoder] = [:]
    /// Whether adapters are switched off (inside ``withAdaptersDisabled(_:)``).
    public private(set) var adaptersDisabled = false
    var modulesToSave = ModulesToSave()

    /// Adds a first adapter, `adapterName`, to `base`, freezes everything else and makes it trainable.
    public init(
        _ base: Module, configuration: some PEFTConfiguration, adapterName: String = "default"
    ) throws {
        self.base = base
        self.modelType = (base as? any HuggingFaceModel)?.modelType
        self.activeAdapter = adapterName
        base.freeze()
        try addAdapter(adapterName, configuration: configuration)
        try setAdapter(adapterName)
    }

    /// Adds an adapter without activating it; it stays frozen until ``setAdapter(_:)`` selects it.
    public func addAdapter(_ name: String, configuration: some PEFTConfiguration) throws {
        guard configurations[name] == nil else { throw AdapterError.duplicateAdapter(name) }
        if let existing = configurations.values.first,
            type(of: existing).peftType != type(of: configuration).peftType
        {
            throw AdapterError.invalidState(
                "cannot combine adapters of different methods (\(type(of: existing).peftType) and "
                    + "\(type(of: configuration).peftType)) in one model")
        }
        var applied = configuration
        if let encoder = try Self.apply(&applied, to: base, adapterName: name, modelType: modelType)
        {
            encoder.freeze()
            promptEncoders[name] = encoder
        }
        configurations[name] = applied
        adapterNames.append(name)
        if let paths = (applied as? LoRAConfiguration)?.modulesToSave
            ?? (applied as? IA3Configuration)?.modulesToSave
        {
            try modulesToSave.register(paths: paths, adapter: name, in: base)
        }
        for (_, layer) in adapterLayers() where layer.adapterNames.contains(name) {
            layer.setAdapterTrainable(name, false)
        }
    }

    static func apply<Configuration: PEFTConfiguration>(
        _ configuration: inout Configuration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        guard let method = Configuration.self as? any MethodProviding.Type else {
            throw AdapterError.invalidConfiguration(
                key: "peft_type", reason: "\(Configuration.peftType) has no method")
        }
        return try method.applyErased(
            &configuration, to: model, adapterName: adapterName, modelType: modelType)
    }

    /// Every adapter-carrying layer with its path.
    public func adapterLayers() -> [(path: String, layer: any AdapterLayer)] {
        base.namedModules().compactMap { entry in
            (entry.module as? any AdapterLayer).map { (entry.path, $0) }
        }
    }

    /// Makes `name` the active adapter: it alone runs and trains.
    public func setAdapter(_ name: String) throws {
        guard configurations[name] != nil else {
            throw AdapterError.unknownAdapter(name, known: adapterNames)
        }
        try modulesToSave.activate(name, previous: activeAdapter, in: base)
        activeAdapter = name
        for (_, layer) in adapterLayers() {
            layer.activeAdapters = layer.adapterNames.contains(name) ? [name] : []
            for adapter in layer.adapterNames {
                layer.setAdapterTrainable(adapter, adapter == name)
            }
        }
        for (adapter, encoder) in promptEncoders {
            if adapter == name { encoder.unfreeze() } else { encoder.freeze() }
        }
        updateExtraTrainables()
    }

    /// Biases that `bias = all | lora_only` trains, and `modules_to_save` copies.
    func updateExtraTrainables() {
        for name in adapterNames {
            guard let configuration = configurations[name] else { continue }
            let layerKeys = Set(
                adapterLayers().flatMap { entry in
                    entry.layer.adapterParameters(named: name).map {
                        AdapterFolder.keyPrefix + "\(entry.path).\($0.key)"
                    }
                })
            for (key, parameter) in tensors(of: configuration, adapterName: name)
            where !layerKeys.contains(key) {
                parameter.isTrainable = name == activeAdapter
            }
        }
    }

    /// The adapter's tensors in the model, keyed as in `adapter_model.safetensors`.
    public func tensors(of configuration: any PEFTConfiguration, adapterName: String) -> [(
        key: String, parameter: Parameter
    )] {
        guard let method = type(of: configuration) as? any MethodProviding.Type else { return [] }
        var result = method.tensorsErased(
            in: base, adapterName: adapterName, configuration: configuration)
        result += modulesToSave.tensors(
            adapter: adapterName, activeAdapter: activeAdapter, in: base
        )
        .map { (AdapterFolder.keyPrefix + $0.key, $0.parameter) }
        return result
    }

    /// The active prompt encoder, unless adapters are switched off.
    var activePromptEncoder: (any PromptLearningEncoder)? {
        adaptersDisabled ? nil : promptEncoders[activeAdapter]
    }

    /// Runs `body` with every adapter switched off: the base model's own outputs.
    public func withAdaptersDisabled<Result>(_ body: () throws -> Result) throws -> Result {
        let layers = adapterLayers()
        let previous = activeAdapter
        for (_, layer) in layers { layer.isDisabled = true }
        adaptersDisabled = true
        try modulesToSave.restoreOriginals(saving: previous, in: base)
        defer {
            for (_, layer) in layers { layer.isDisabled = false }
            adaptersDisabled = false
            try? modulesToSave.activate(previous, previous: nil, in: base)
        }
        return try body()
    }

    /// Removes an adapter; the active one can only go when another remains to take its place.
    public func deleteAdapter(_ name: String) throws {
        guard configurations[name] != nil else {
            throw AdapterError.unknownAdapter(name, known: adapterNames)
        }
        if name == activeAdapter, let other = adapterNames.first(where: { $0 != name }) {
            try setAdapter(other)
        }
        for (_, layer) in adapterLayers() { layer.removeAdapter(named: name) }
        modulesToSave.remove(adapter: name)
        promptEncoders[name] = nil
        configurations[name] = nil
        adapterNames.removeAll { $0 == name }
    }

    /// The parameters that train: the active adapter's, in the model and in its prompt encoder.
    public var trainableParameters: [Parameter] {
        base.trainableParameters + (promptEncoders[activeAdapter]?.trainableParameters ?? [])
    }

    /// `trainable params: … || all params: … || trainable%: …`, as PEFT prints it; prompt encoders count.
    public var trainableParameterSummary: String {
        let trainable = trainableParameters.reduce(0) { $0 + $1.count }
        let total = base.parameterCount + promptEncoders.values.reduce(0) { $0 + $1.parameterCount }
        return Module.summaryLine(trainable: trainable, total: total)
    }

    /// Prints ``trainableParameterSummary``.
    public func printTrainableParameters() { print(trainableParameterSummary) }

    /// Switches the base model and the prompt encoders to training or evaluation mode.
    public func train(_ training: Bool = true) {
        base.train(training)
        for encoder in promptEncoders.values { encoder.train(training) }
    }

    /// Switches the base model and the prompt encoders to evaluation mode.
    public func eval() { train(false) }
}

/// Lets the container reach a configuration's method without knowing its type statically.
protocol MethodProviding: PEFTConfiguration {
    associatedtype Method: PEFTMethod where Method.Configuration == Self
}

extension MethodProviding {
    static func applyErased<C: PEFTConfiguration>(
        _ configuration: inout C, to model: Module, adapterName: String, modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        var typed = configuration as! Self
        let encoder = try Method.apply(
            &typed, to: model, adapterName: adapterName, modelType: modelType)
        configuration = typed as! C
        return encoder
    }

    static func tensorsErased(
        in model: Module, adapterName: String, configuration: any PEFTConfiguration
    )
        -> [(key: String, parameter: Parameter)]
    {
        Method.adapterTensors(
            in: model, adapterName: adapterName, configuration: configuration as! Self)
    }
}

extension LoRAConfiguration: MethodProviding {
    typealias Method = LoRA
}
