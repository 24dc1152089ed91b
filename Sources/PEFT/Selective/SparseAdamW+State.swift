import Foundation
import PEFTNN

/// Saving and loading SparseAdamW's moments as `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step`
/// and, for a partly selected parameter, `<name>.indices`.
extension SparseAdamW {
    /// The optimizer name recorded in the state file.
    static let stateFileOptimizerName = "SparseAdamW"

    /// Writes the moments of every parameter that has them, the step count and the
    /// hyperparameters to a safetensors file, atomically.
    ///
    /// A partly selected parameter's moments are 1-D, one value per selected entry, and its
    /// selected flat indices are stored exactly as the I64 tensor `<name>.indices`, so loading can
    /// check that the selection is the same. A whole-tensor selection's moments have the
    /// parameter's shape, as AdamW stores them. `parameterNames[i]` names `parameters[i]`.
    public func saveState(to url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        var file = OptimizerStateWriter(
            optimizer: Self.stateFileOptimizerName, stepCount: stepCount,
            hyperparameters: hyperparameters.metadata)
        for (index, name) in parameterNames.enumerated() {
            guard let state = moments[index] else { continue }
            let selected = selection.parameters[index]
            try state.write(to: &file, name: name, shape: momentShape(of: selected))
            if case .indices(let indices) = selected.entries {
                try file.add("\(name).indices", indices: indices)
            }
        }
        try file.write(to: url)
    }

    /// Replaces the moments, step count and hyperparameters with those saved in `url`.
    ///
    /// A parameter with none of its tensors in the file gets no state, as before its first
    /// gradient. Nothing changes unless the whole file is valid.
    ///
    /// - Throws: `OptimizerStateError` if another optimizer wrote the file, it lacks a metadata
    ///   entry or tensor, holds a tensor for no parameter, a hyperparameter is out of range, a
    ///   moment has the wrong shape, or the stored indices differ from this optimizer's selection.
    public func loadState(from url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        let file = try OptimizerStateReader(contentsOf: url, optimizer: Self.stateFileOptimizerName)
        let savedStepCount = try file.stepCount()
        let savedHyperparameters = try AdamHyperparameters(from: file)
        var loaded: [AdamMoments?] = []
        var knownKeys: Set<String> = []
        for (name, selected) in zip(parameterNames, selection.parameters) {
            let indicesKey = "\(name).indices"
            var keys = AdamMoments.stateKeys(for: name)
            if case .indices = selected.entries { keys.append(indicesKey) }
            knownKeys.formUnion(keys)
            guard keys.contains(where: file.contains) else {
                loaded.append(nil)
                continue
            }
            loaded.append(try AdamMoments(from: file, name: name, shape: momentShape(of: selected)))
            if case .indices(let indices) = selected.entries,
                try file.indices(indicesKey, count: indices.count) != indices
            {
                throw OptimizerStateError.invalidValue(
                    file: file.path, key: indicesKey,
                    value: "indices that differ from the selection")
            }
        }
        try file.requireNoTensors(besides: knownKeys)
        moments = loaded
        stepCount = savedStepCount
        hyperparameters = savedHyperparameters
    }

    /// The parameter's shape for a whole-tensor selection, else one value per selected entry.
    private func momentShape(of selected: SelectedParameter) -> [Int] {
        selected.entries == .all ? selected.shape : [selected.selectedCount]
    }
}
