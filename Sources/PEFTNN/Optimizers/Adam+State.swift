import Foundation

/// Saving and loading Adam's moments as `<name>.exp_avg`, `<name>.exp_avg_sq` and `<name>.step`.
extension Adam {
    /// The optimizer name recorded in the state file: `AdamW` when weight decay is decoupled.
    var stateFileOptimizerName: String { decouplesWeightDecay ? "AdamW" : "Adam" }

    /// Writes the moments of every parameter that has them, the step count and the
    /// hyperparameters to a safetensors file, atomically.
    ///
    /// `parameterNames[i]` names `parameters[i]`.
    public func saveState(to url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        var file = OptimizerStateWriter(
            optimizer: stateFileOptimizerName, stepCount: stepCount,
            hyperparameters: hyperparameters.metadata)
        for (index, name) in parameterNames.enumerated() {
            try moments[index]?.write(to: &file, name: name, shape: parameters[index].shape)
        }
        try file.write(to: url)
    }

    /// Replaces the moments, step count and hyperparameters with those saved in `url`.
    ///
    /// A parameter with none of its three tensors in the file gets no state, as before its first
    /// gradient. Nothing changes unless the whole file is valid.
    ///
    /// - Throws: ``OptimizerStateError`` if the file was written by another optimizer, lacks a
    ///   metadata entry or one of a parameter's tensors, holds a tensor for no parameter, a
    ///   hyperparameter is out of range, or a moment's shape differs from its parameter's.
    public func loadState(from url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        let file = try OptimizerStateReader(contentsOf: url, optimizer: stateFileOptimizerName)
        let savedStepCount = try file.stepCount()
        let savedHyperparameters = try AdamHyperparameters(from: file)
        var loaded: [AdamMoments?] = []
        var knownKeys: Set<String> = []
        for (name, parameter) in zip(parameterNames, parameters) {
            let keys = AdamMoments.stateKeys(for: name)
            knownKeys.formUnion(keys)
            loaded.append(
                keys.contains(where: file.contains)
                    ? try AdamMoments(from: file, name: name, shape: parameter.shape) : nil)
        }
        try file.requireNoTensors(besides: knownKeys)
        moments = loaded
        stepCount = savedStepCount
        hyperparameters = savedHyperparameters
    }
}
