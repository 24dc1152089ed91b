import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor

/// A base model with named adapters: Hugging Face PEFT's `PeftModel`.
///
/// Layer methods (LoRA, IA3) change the base model in place (their targets are wrapped) and the base
/// stays usable directly; prompt methods keep a prompt encoder here and change the inputs, so run the
/// model through this container. Its entry points follow the base's type: a decoder-only base gives
/// ``logits(_:)`` and generation, an encoder-decoder base ``encode(_:)`` and
/// ``decode(_:encoderOutput:encoderMask:)``, and calling the wrong one does not compile.
///
/// The container decides which adapter is active and trainable, switches adapters off for a scope,
/// saves and loads adapter folders, and merges. Exactly one adapter trains at a time: the active one.
/// Every method, including one defined outside this library, is driven through ``PEFTConfiguration``,
/// ``PEFTMethod`` and ``AdapterLayer`` alone.
public final class PEFTModel<Base: Module> {
    /// The model the adapters live in.
    public let base: Base
    /// Each adapter's configuration, by name.
    public internal(set) var configurations: [String: any PEFTConfiguration] = [:]
    /// Adapter names in the order they were added.
    public internal(set) var adapterNames: [String] = []
    /// The adapter the model runs with and trains; `nil` once the last adapter is deleted or unloaded.
    public private(set) var activeAdapter: String?
    /// Prompt encoders of prompt-learning adapters, by adapter name.
    public internal(set) var promptEncoders: [String: any PromptLearningEncoder] = [:]
    /// Frozen tensors shared by an adapter's layers (``AdapterAttachment/sharedModule``), by adapter
    /// name.
    public internal(set) var sharedModules: [String: Module] = [:]
    /// Whether adapters are switched off (inside ``withAdaptersDisabled(_:)``).
    public private(set) var adaptersDisabled = false
    var modulesToSave = ModulesToSave()

    /// Adds a first adapter, `adapterName`, to `base`, freezes everything else and makes it trainable.
    public convenience init(
        _ base: Base, configuration: some PEFTConfiguration, adapterName: String = "default"
    ) throws {
        try self.init(base, configuration: configuration, adapterName: adapterName, loading: false)
    }

    init(
        _ base: Base, configuration: some PEFTConfiguration, adapterName: String, loading: Bool
    ) throws {
        self.base = base
        base.freeze()
        try addAdapter(adapterName, configuration: configuration, loading: loading)
        try setAdapter(adapterName)
    }

    /// What the adapter keeps beside the model.
    func attachment(of name: String) -> AdapterAttachment {
        AdapterAttachment(promptEncoder: promptEncoders[name], sharedModule: sharedModules[name])
    }

    /// The shared modules that edit the base weights, by adapter name.
    var baseWeightEdits: [(adapter: String, edit: any BaseWeightEdit)] {
        sharedModules.compactMap { name, module in
            (module as? any BaseWeightEdit).map { (name, $0) }
        }
    }

    /// The model family's description, when the base gives one.
    public var family: (any AdaptableModel)? { base as? any AdaptableModel }

    /// Adds an adapter without activating it; it stays frozen until ``setAdapter(_:)`` selects it.
    ///
    /// A method that fails half-way leaves the model as it was.
    public func addAdapter(_ name: String, configuration: some PEFTConfiguration) throws {
        try addAdapter(name, configuration: configuration, loading: false)
    }

    func addAdapter<C: PEFTConfiguration>(_ name: String, configuration: C, loading: Bool) throws {
        guard configurations[name] == nil else { throw AdapterError.duplicateAdapter(name) }
        if let existing = configurations.values.first,
            type(of: existing).peftType != C.peftType
        {
            throw AdapterError.invalidState(
                "cannot combine adapters of different methods (\(type(of: existing).peftType) and "
                    + "\(C.peftType)) in one model")
        }
        var applied = configuration
        let context = AdapterContext(model: base, adapterName: name, weightsWillBeLoaded: loading)
        let attachment: AdapterAttachment
        do {
            attachment = try C.Method.apply(&applied, in: context)
            var paths = applied.modulesToSave ?? []
            if applied.taskType == "SEQ_CLS" {
                paths += sequenceClassificationHeads.filter { !paths.contains($0) }
                applied.modulesToSave = paths
            }
            if !paths.isEmpty {
                try modulesToSave.register(paths: paths, adapter: name, in: base)
            }
        } catch {
            try? removeFromLayers(name)
            modulesToSave.remove(adapter: name)
            throw error
        }
        if let encoder = attachment.promptEncoder {
            encoder.freeze()
            encoder.train(base.isTraining)
            promptEncoders[name] = encoder
        }
        if let shared = attachment.sharedModule {
            shared.freeze()
            shared.train(base.isTraining)
            sharedModules[name] = shared
        }
        configurations[name] = applied
        adapterNames.append(name)
        for (_, layer) in adapterLayers() where layer.adapterNames.contains(name) {
            layer.setAdapterTrainable(name, false)
            layer.isDisabled = adaptersDisabled
        }
        updateExtraTrainables()
    }

    /// Takes `name` out of every layer, and puts back the base of layers left with no adapter.
    private func removeFromLayers(_ name: String) throws {
        for (path, layer) in adapterLayers() where layer.adapterNames.contains(name) {
            try layer.removeAdapter(named: name)
            if layer.adapterNames.isEmpty {
                try base.replaceModule(at: path, with: layer.baseModule)
            }
        }
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
        for (adapter, edit) in baseWeightEdits where adapter != name { edit.setApplied(false) }
        for (adapter, edit) in baseWeightEdits where adapter == name { edit.setApplied(true) }
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
            let sharedKeys = Set(sharedModules[name]?.namedParameters().map(\.path) ?? [])
            for (key, parameter) in tensors(of: configuration, adapterName: name)
            where !layerKeys.contains(key) && !sharedKeys.contains(key) {
                parameter.isTrainable = name == activeAdapter
            }
        }
    }

    /// The adapter's tensors in the model, keyed as in `adapter_model.safetensors`: the method's, the
    /// shared module's under their own paths, and the `modules_to_save` copies.
    public func tensors(of configuration: some PEFTConfiguration, adapterName: String) -> [(
        key: String, parameter: Parameter
    )] {
        tensors(typed: configuration, adapterName: adapterName)
    }

    private func tensors<C: PEFTConfiguration>(typed configuration: C, adapterName: String) -> [(
        key: String, parameter: Parameter
    )] {
        var result = C.Method.adapterTensors(
            in: base, adapterName: adapterName, configuration: configuration)
        result +=
            sharedModules[adapterName]?.namedParameters().map { ($0.path, $0.parameter) } ?? []
        result += modulesToSave.tensors(
            adapter: adapterName, activeAdapter: activeAdapter, in: base
        )
        .map { (AdapterFolder.keyPrefix + $0.key, $0.parameter) }
        return result
    }

    /// The active prompt encoder, unless adapters are switched off.
    var activePromptEncoder: (any PromptLearningEncoder)? {
        guard !adaptersDisabled, let activeAdapter else { return nil }
        return promptEncoders[activeAdapter]
    }

    /// Runs `body` with every adapter switched off: the base model's own outputs.
    ///
    /// Merged adapters are taken out of the base weights first, as Hugging Face PEFT does, and merged
    /// back afterwards, so the model leaves the scope as it entered it.
    public func withAdaptersDisabled<Result>(_ body: () throws -> Result) throws -> Result {
        let layers = adapterLayers()
        var merged: [(layer: any AdapterLayer, names: [String])] = []
        for (_, layer) in layers where !layer.mergedAdapters.isEmpty {
            merged.append((layer, layer.mergedAdapters))
            for name in layer.mergedAdapters.reversed() { try layer.unmerge(name) }
        }
        let applied = baseWeightEdits.filter { $0.edit.isApplied }
        for (_, edit) in applied { edit.setApplied(false) }
        let previous = activeAdapter
        for (_, layer) in layers { layer.isDisabled = true }
        adaptersDisabled = true
        if let previous { try modulesToSave.restoreOriginals(saving: previous, in: base) }
        defer {
            for (_, layer) in layers { layer.isDisabled = false }
            adaptersDisabled = false
            if let previous { try? modulesToSave.activate(previous, previous: nil, in: base) }
            for (layer, names) in merged {
                for name in names { try? layer.merge(name, safe: false) }
            }
            for (_, edit) in applied { edit.setApplied(true) }
        }
        return try body()
    }

    /// Removes an adapter, unmerging it first if it is merged.
    ///
    /// When the active adapter goes, the first remaining one becomes active; when the last one goes,
    /// the base model is as it was before any adapter (its wrapped layers back in place) and
    /// ``activeAdapter`` is `nil`.
    public func deleteAdapter(_ name: String) throws {
        guard configurations[name] != nil else {
            throw AdapterError.unknownAdapter(name, known: adapterNames)
        }
        if name == activeAdapter, let other = adapterNames.first(where: { $0 != name }) {
            try setAdapter(other)
        }
        try removeFromLayers(name)
        (sharedModules[name] as? any BaseWeightEdit)?.setApplied(false)
        if adapterNames == [name] {
            if let activeAdapter {
                try modulesToSave.restoreOriginals(saving: activeAdapter, in: base)
            }
            modulesToSave = ModulesToSave()
            activeAdapter = nil
        } else {
            modulesToSave.remove(adapter: name)
        }
        promptEncoders[name] = nil
        sharedModules[name] = nil
        configurations[name] = nil
        adapterNames.removeAll { $0 == name }
    }

    func clearActiveAdapter() { activeAdapter = nil }

    /// The parameters that train: the active adapter's, in the model and in its prompt encoder.
    public var trainableParameters: [Parameter] {
        base.trainableParameters
            + (activeAdapter.flatMap { promptEncoders[$0]?.trainableParameters } ?? [])
    }

    /// `trainable params: … || all params: … || trainable%: …`, as PEFT prints it; prompt encoders and
    /// shared modules count.
    public var trainableParameterSummary: String {
        let trainable = trainableParameters.reduce(0) { $0 + $1.count }
        let total =
            base.parameterCount + promptEncoders.values.reduce(0) { $0 + $1.parameterCount }
            + sharedModules.values.reduce(0) { $0 + $1.parameterCount }
        return Module.summaryLine(trainable: trainable, total: total)
    }

    /// Prints ``trainableParameterSummary``.
    public func printTrainableParameters() { print(trainableParameterSummary) }

    /// Switches the base model, the prompt encoders and the shared modules to training or evaluation.
    public func train(_ training: Bool = true) {
        base.train(training)
        for encoder in promptEncoders.values { encoder.train(training) }
        for shared in sharedModules.values { shared.train(training) }
    }

    /// Switches everything to evaluation mode.
    public func eval() { train(false) }

    /// Reseeds every dropout layer in the base (LoRA's included) and in the prompt encoders from
    /// `seed` and the layer's path, so a loop that calls it each step with a seed made from its own
    /// and the step draws the same masks when it resumes.
    public func reseedDropouts(seed: UInt64) {
        base.reseedDropouts(seed: seed)
        for (name, encoder) in promptEncoders {
            encoder.reseedDropouts(
                seed: seed ^ adapterSeed(adapterName: name, path: "", purpose: "prompt_encoder"))
        }
    }
}
