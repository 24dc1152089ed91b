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
            hyperparameters: [
                "lr": "\(learningRate)", "beta1": "\(beta1)", "beta2": "\(beta2)",
                "eps": "\(epsilon)", "weight_decay": "\(weightDecay)",
            ])
        for (index, name) in parameterNames.enumerated() {
            guard let state = moments[index] else { continue }
            let shape = parameters[index].shape
            try file.add("\(name).exp_avg", shape: shape, storage: state.average)
            try file.add("\(name).exp_avg_sq", shape: shape, storage: state.squaredAverage)
            try file.add("\(name).step", step: state.step)
        }
        try file.write(to: url)
    }

    /// Replaces the moments, step count and hyperparameters with those saved in `url`.
    ///
    /// A parameter with none of its three tensors in the file gets no state, as before its first
    /// gradient. Nothing changes unless the whole file is valid.
    ///
    /// - Throws: ``OptimizerStateError`` if the file was written by another optimizer, lacks a
    ///   metadata entry or one of a parameter's tensors, holds a tensor for no parameter, or a
    ///   moment's shape differs from its parameter's.
    public func loadState(from url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        let file = try OptimizerStateReader(contentsOf: url, optimizer: stateFileOptimizerName)
        let savedStepCount = try file.value("step_count") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        let savedLearningRate = try file.value("lr", Float.init)
        let savedBeta1 = try file.value("beta1", Float.init)
        let savedBeta2 = try file.value("beta2", Float.init)
        let savedEpsilon = try file.value("eps", Float.init)
        let savedWeightDecay = try file.value("weight_decay", Float.init)
        var loaded: [AdamMoments?] = []
        var knownKeys: Set<String> = []
        for (name, parameter) in zip(parameterNames, parameters) {
            let keys = ["exp_avg", "exp_avg_sq", "step"].map { "\(name).\($0)" }
            knownKeys.formUnion(keys)
            guard keys.contains(where: file.contains) else {
                loaded.append(nil)
                continue
            }
            let average = try file.storage(keys[0], shape: parameter.shape)
            let squaredAverage = try file.storage(keys[1], shape: parameter.shape)
            let step = try file.step(keys[2])
            loaded.append(
                AdamMoments(step: step, average: average, squaredAverage: squaredAverage))
        }
        try file.requireNoTensors(besides: knownKeys)
        moments = loaded
        stepCount = savedStepCount
        learningRate = savedLearningRate
        beta1 = savedBeta1
        beta2 = savedBeta2
        epsilon = savedEpsilon
        weightDecay = savedWeightDecay
    }
}
