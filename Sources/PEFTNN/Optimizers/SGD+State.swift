import Foundation
import PEFTTensor

/// Saving and loading SGD's momentum buffers as `<name>.momentum_buffer`.
extension SGD {
    /// Writes every momentum buffer, the step count and the hyperparameters to a safetensors
    /// file, atomically.
    ///
    /// `parameterNames[i]` names `parameters[i]`.
    public func saveState(to url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        var file = OptimizerStateWriter(
            optimizer: "SGD", stepCount: stepCount,
            hyperparameters: [
                "lr": "\(learningRate)", "momentum": "\(momentum)", "dampening": "\(dampening)",
                "weight_decay": "\(weightDecay)", "nesterov": "\(nesterov)",
            ])
        for (index, name) in parameterNames.enumerated() {
            guard let buffer = momentumBuffers[index] else { continue }
            try file.add("\(name).momentum_buffer", shape: parameters[index].shape, storage: buffer)
        }
        try file.write(to: url)
    }

    /// Replaces the momentum buffers, step count and hyperparameters with those saved in `url`.
    ///
    /// A parameter whose buffer is not in the file gets none, as before its first gradient.
    /// Nothing changes unless the whole file is valid.
    ///
    /// - Throws: ``OptimizerStateError`` if the file was written by another optimizer, lacks a
    ///   metadata entry, holds a tensor for no parameter, or a buffer's shape differs from its
    ///   parameter's.
    public func loadState(from url: URL, parameterNames: [String]) throws {
        checkParameterNames(parameterNames, for: parameters)
        let file = try OptimizerStateReader(contentsOf: url, optimizer: "SGD")
        let savedStepCount = try file.stepCount()
        let savedLearningRate = try file.value("lr", Float.init)
        let savedMomentum = try file.value("momentum", Float.init)
        let savedDampening = try file.value("dampening", Float.init)
        let savedWeightDecay = try file.value("weight_decay", Float.init)
        let savedNesterov = try file.value("nesterov", Bool.init)
        var buffers: [TensorStorage?] = []
        var knownKeys: Set<String> = []
        for (name, parameter) in zip(parameterNames, parameters) {
            let key = "\(name).momentum_buffer"
            knownKeys.insert(key)
            buffers.append(file.contains(key) ? try file.storage(key, shape: parameter.shape) : nil)
        }
        try file.requireNoTensors(besides: knownKeys)
        momentumBuffers = buffers
        stepCount = savedStepCount
        learningRate = savedLearningRate
        momentum = savedMomentum
        dampening = savedDampening
        weightDecay = savedWeightDecay
        nesterov = savedNesterov
    }
}
