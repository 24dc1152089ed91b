import PEFTModels
import PEFTNN
import PEFTTensor

extension PEFTModel {
    /// Runs `body` with row `i` of every batch using the adapter `names[i]` (``AdapterRowAssignment/baseName``
    /// for none): Hugging Face PEFT's `adapter_names`, for inference.
    ///
    /// Every adapter layer computes each adapter's update on that adapter's rows only, so one pass
    /// serves several adapters, DoRA included. The active adapter is ignored for the scope and the
    /// model leaves it as it entered. Refused while training, while adapters are merged or switched
    /// off, for prompt-learning adapters, adapters with `modules_to_save`, and methods whose layers
    /// cannot select adapters per row.
    public func withAdapterNames<Result>(_ names: [String], _ body: () throws -> Result) throws
        -> Result
    {
        let assignment = try rowAssignment(for: names)
        let layers = adapterLayers().compactMap { $0.layer as? any RowAdapterSelecting }
        for layer in layers { layer.rowAssignment = assignment }
        defer { for layer in layers { layer.rowAssignment = nil } }
        return try body()
    }

    /// Checks `names` and makes the assignment.
    func rowAssignment(for names: [String]) throws -> AdapterRowAssignment {
        guard !names.isEmpty else {
            throw AdapterError.invalidConfiguration(
                key: "adapter_names", reason: "needs one adapter name per row")
        }
        guard !base.isTraining else {
            throw AdapterError.invalidState(
                "adapter_names (mixed-adapter batches) are for inference; call eval() first")
        }
        guard !adaptersDisabled else {
            throw AdapterError.invalidState("adapter_names given while adapters are disabled")
        }
        let assignment = AdapterRowAssignment(names)
        for name in assignment.adapters {
            guard configurations[name] != nil else {
                throw AdapterError.unknownAdapter(name, known: adapterNames)
            }
            if promptEncoders[name] != nil || sharedModules[name] != nil {
                throw AdapterError.invalidState(
                    "adapter '\(name)' (\(type(of: configurations[name]!).peftType)) cannot run in "
                        + "a mixed-adapter batch")
            }
            if !(modulesToSave.owned[name] ?? []).isEmpty {
                throw AdapterError.invalidState(
                    "adapter '\(name)' has modules_to_save, which mixed-adapter batches do not "
                        + "support")
            }
        }
        for (path, layer) in adapterLayers() {
            guard !Set(layer.adapterNames).isDisjoint(with: assignment.adapters) else { continue }
            guard layer is any RowAdapterSelecting else {
                throw AdapterError.invalidState(
                    "\(type(of: layer)) at '\(path)' cannot select adapters per row")
            }
            guard layer.mergedAdapters.isEmpty else {
                throw AdapterError.invalidState(
                    "cannot pass adapter_names while adapters are merged ('\(path)': "
                        + "\(layer.mergedAdapters)); unmerge first")
            }
        }
        return assignment
    }
}

extension PEFTModel where Base: CausalLanguageModel {
    /// Logits `[B, T, V]` with row `i` run by the adapter `adapterNames[i]`.
    public func logits(_ inputs: DecoderInputs, adapterNames: [String]) throws -> Tensor {
        let batch = inputs.shape[0]
        guard adapterNames.count == batch else {
            throw AdapterError.invalidConfiguration(
                key: "adapter_names",
                reason: "\(adapterNames.count) names for a batch of \(batch) rows")
        }
        return try withAdapterNames(adapterNames) { logits(inputs) }
    }

    /// Continues each prompt with its own adapter, `adapterNames[i]` for `prompts[i]`, in shared
    /// batches with the key/value cache: prompts of equal length run as one batch whatever their
    /// adapters (the models number positions per batch, so unequal lengths are not padded together).
    ///
    /// Each row's tokens are those ``CausalLanguageModel/generate(prompt:options:promptEmbeddings:prefixes:)``
    /// gives it with its adapter active.
    public func generate(
        prompts: [[Int]], adapterNames: [String], options: GenerationOptions = GenerationOptions()
    ) throws -> [[Int]] {
        guard adapterNames.count == prompts.count else {
            throw AdapterError.invalidConfiguration(
                key: "adapter_names",
                reason: "\(adapterNames.count) names for \(prompts.count) prompts")
        }
        _ = try rowAssignment(for: adapterNames)
        var results = [[Int]](repeating: [], count: prompts.count)
        var byLength: [Int: [Int]] = [:]
        var lengths: [Int] = []
        for (row, prompt) in prompts.enumerated() {
            if byLength[prompt.count] == nil { lengths.append(prompt.count) }
            byLength[prompt.count, default: []].append(row)
        }
        for length in lengths {
            let rows = byLength[length]!
            let generated = try withAdapterNames(rows.map { adapterNames[$0] }) {
                try generate(prompts: rows.map { prompts[$0] }, options: options)
            }
            for (row, tokens) in zip(rows, generated) { results[row] = tokens }
        }
        return results
    }
}

/// A container that can continue prompts with a different adapter per prompt, whatever its base
/// type: for code that holds `any PEFTModelProtocol` (the command line).
public protocol MixedAdapterGenerating: AnyObject {
    /// Continues `prompts[i]` with the adapter `adapterNames[i]` (``AdapterRowAssignment/baseName``
    /// for none), in shared batches.
    func generate(prompts: [[Int]], adapterNames: [String], options: GenerationOptions) throws
        -> [[Int]]
}

extension PEFTModel: MixedAdapterGenerating where Base: CausalLanguageModel {}
