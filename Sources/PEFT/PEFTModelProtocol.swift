import Foundation
import PEFTNN

/// What every ``PEFTModel`` offers whatever its base type: for code that holds containers of several
/// model families at once (a command line that loads any folder) and so cannot name `Base`.
///
/// Cast to `any CausalLanguageModel` or `any Seq2SeqLanguageModel` to run one.
public protocol PEFTModelProtocol: AnyObject {
    /// The model the adapters live in.
    var baseModule: Module { get }
    /// Each adapter's configuration, by name.
    var configurations: [String: any PEFTConfiguration] { get }
    /// Adapter names in the order they were added.
    var adapterNames: [String] { get }
    /// The adapter the model runs with and trains.
    var activeAdapter: String? { get }
    /// Prompt encoders of prompt-learning adapters, by adapter name.
    var promptEncoders: [String: any PromptLearningEncoder] { get }
    /// The parameters that train.
    var trainableParameters: [Parameter] { get }
    /// PEFT's summary line.
    var trainableParameterSummary: String { get }
    /// Makes `name` the active adapter.
    func setAdapter(_ name: String) throws
    /// Switches to training or evaluation mode.
    func train(_ training: Bool)
    /// Reseeds every dropout layer, the base's and the prompt encoders'.
    func reseedDropouts(seed: UInt64)
    /// Saves adapters as PEFT does.
    func save(to folder: URL, adapters: [String]?) throws
    /// Folds adapters into the base weights.
    func merge(adapters names: [String]?, safe: Bool) throws
    /// Takes every merged adapter back out of the base weights.
    func unmerge() throws
    /// Runs `body` with every adapter switched off.
    func withAdaptersDisabled<Result>(_ body: () throws -> Result) throws -> Result
    /// Adds the adapter saved in `folder` under `name`, without activating it.
    func loadAdapter(from folder: URL, as name: String) throws
    /// Removes an adapter.
    func deleteAdapter(_ name: String) throws
    /// The adapter's tensors keyed as in `adapter_model.safetensors`.
    func tensors(of configuration: some PEFTConfiguration, adapterName: String) -> [(
        key: String, parameter: Parameter
    )]
    /// Merges the named adapters (the active one when `nil`) and returns the plain base model.
    func mergeAndUnloadModule(adapters names: [String]?, safe: Bool) throws -> Module
    /// The active adapter's per-step training work, or `nil` when its method needs none.
    func trainingStepHook() throws -> (any TrainingStepHook)?
}

extension PEFTModelProtocol {
    /// Saves every adapter.
    public func save(to folder: URL) throws { try save(to: folder, adapters: nil) }

    /// Folds the active adapter into the base weights.
    public func merge(safe: Bool = false) throws { try merge(adapters: nil, safe: safe) }

    /// Merges the named adapters (the active one by default) and returns the plain base model.
    @discardableResult
    public func mergeAndUnload(adapters names: [String]? = nil, safe: Bool = false) throws -> Module
    {
        try mergeAndUnloadModule(adapters: names, safe: safe)
    }

    /// Merges the active adapter and returns the plain base model.
    public func mergeAndUnloadModule(safe: Bool) throws -> Module {
        try mergeAndUnloadModule(adapters: nil, safe: safe)
    }
}

extension PEFTModel: PEFTModelProtocol {
    /// ``base`` as a plain module.
    public var baseModule: Module { base }

    /// ``mergeAndUnload(adapters:safe:)`` returning the base as a plain module.
    public func mergeAndUnloadModule(adapters names: [String]?, safe: Bool) throws -> Module {
        try mergeAndUnload(adapters: names, safe: safe)
    }
}

/// Loads the adapter in `folder` onto a model whose type is known only at run time; the container is
/// typed by the model's dynamic type, so a cast to `any CausalLanguageModel` or
/// `any Seq2SeqLanguageModel` reaches its entry points.
public func loadPEFTModel(
    _ base: some AdaptableModel, from folder: URL, adapterName: String = "default",
    isTrainable: Bool = false
) throws -> any PEFTModelProtocol {
    try PEFTModel.load(base, from: folder, adapterName: adapterName, isTrainable: isTrainable)
}

/// Adds a first adapter to a model whose type is known only at run time, as
/// ``loadPEFTModel(_:from:isTrainable:)`` does for a folder.
public func makePEFTModel(
    _ base: some AdaptableModel, configuration: some PEFTConfiguration,
    adapterName: String = "default"
) throws -> any PEFTModelProtocol {
    try PEFTModel(base, configuration: configuration, adapterName: adapterName)
}
