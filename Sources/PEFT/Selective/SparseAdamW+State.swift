import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor

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
        Self.checkNames(parameterNames, count: parameters.count)
        var writer = SafeTensorsWriter(metadata: hyperparameterMetadata)
        for (index, name) in parameterNames.enumerated() {
            guard let state = moments[index] else { continue }
            let selected = selection.parameters[index]
            let shape = momentShape(of: selected)
            try writer.add("\(name).exp_avg", shape: shape, copying: state.average.buffer)
            try writer.add("\(name).exp_avg_sq", shape: shape, copying: state.squaredAverage.buffer)
            try writer.add("\(name).step", shape: [], values: [Float(state.step)])
            if case .indices(let indices) = selected.entries {
                try writer.add(
                    "\(name).indices", shape: [indices.count], int64Values: indices.map(Int64.init))
            }
        }
        try writer.write(to: url)
    }

    /// Replaces the moments, step count and hyperparameters with those saved in `url`.
    ///
    /// A parameter with none of its tensors in the file gets no state, as before its first
    /// gradient. Nothing changes unless the whole file is valid.
    ///
    /// - Throws: `OptimizerStateError` if another optimizer wrote the file, it lacks a metadata
    ///   entry or tensor, holds a tensor for no parameter, a moment has the wrong shape, or the
    ///   stored indices differ from this optimizer's selection.
    public func loadState(from url: URL, parameterNames: [String]) throws {
        Self.checkNames(parameterNames, count: parameters.count)
        let file = try SafeTensorsFile(contentsOf: url)
        let path = url.path
        func metadata<Value>(_ key: String, _ parse: (String) -> Value?) throws -> Value {
            guard let text = file.metadata[key] else {
                throw OptimizerStateError.missingKey(file: path, key: key)
            }
            guard let value = parse(text) else {
                throw OptimizerStateError.invalidValue(file: path, key: key, value: text)
            }
            return value
        }
        let optimizer = try metadata("optimizer") { $0 }
        guard optimizer == Self.stateFileOptimizerName else {
            throw OptimizerStateError.wrongOptimizer(
                file: path, expected: Self.stateFileOptimizerName, found: optimizer)
        }
        func tensor(_ key: String, shape: [Int]) throws -> SafeTensorsTensorInfo {
            guard let info = file.info(key) else {
                throw OptimizerStateError.missingKey(file: path, key: key)
            }
            guard info.shape == shape else {
                throw OptimizerStateError.shapeMismatch(
                    file: path, key: key, expected: shape, found: info.shape)
            }
            return info
        }
        var loaded: [SparseMoments?] = []
        var knownKeys: Set<String> = []
        for (name, selected) in zip(parameterNames, selection.parameters) {
            var keys = ["exp_avg", "exp_avg_sq", "step"].map { "\(name).\($0)" }
            if case .indices = selected.entries { keys.append("\(name).indices") }
            knownKeys.formUnion(keys)
            guard keys.contains(where: { file.info($0) != nil }) else {
                loaded.append(nil)
                continue
            }
            let shape = momentShape(of: selected)
            _ = try tensor(keys[0], shape: shape)
            _ = try tensor(keys[1], shape: shape)
            _ = try tensor(keys[2], shape: [])
            let average = TensorStorage(count: selected.selectedCount)
            let squaredAverage = TensorStorage(count: selected.selectedCount)
            try file.copyFloats(keys[0], into: average.mutableBuffer)
            try file.copyFloats(keys[1], into: squaredAverage.mutableBuffer)
            let step = try file.floats(keys[2])[0]
            guard step >= 0, step == step.rounded() else {
                throw OptimizerStateError.invalidValue(file: path, key: keys[2], value: "\(step)")
            }
            if case .indices(let indices) = selected.entries {
                _ = try tensor(keys[3], shape: [indices.count])
                guard try file.int64s(keys[3]) == indices.map(Int64.init) else {
                    throw OptimizerStateError.invalidValue(
                        file: path, key: keys[3], value: "indices that differ from the selection")
                }
            }
            loaded.append(
                SparseMoments(step: Int(step), average: average, squaredAverage: squaredAverage))
        }
        if let extra = file.tensorNames.first(where: { !knownKeys.contains($0) }) {
            throw OptimizerStateError.unexpectedKey(file: path, key: extra)
        }
        let savedStepCount = try metadata("step_count") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        let savedLearningRate = try metadata("lr", Float.init)
        let savedBeta1 = try metadata("beta1", Float.init)
        let savedBeta2 = try metadata("beta2", Float.init)
        let savedEpsilon = try metadata("eps", Float.init)
        let savedWeightDecay = try metadata("weight_decay", Float.init)
        moments = loaded
        stepCount = savedStepCount
        learningRate = savedLearningRate
        beta1 = savedBeta1
        beta2 = savedBeta2
        epsilon = savedEpsilon
        weightDecay = savedWeightDecay
    }

    /// The optimizer name, step count and hyperparameters as the state file's metadata.
    private var hyperparameterMetadata: [String: String] {
        [
            "optimizer": Self.stateFileOptimizerName, "step_count": "\(stepCount)",
            "lr": "\(learningRate)", "beta1": "\(beta1)", "beta2": "\(beta2)",
            "eps": "\(epsilon)", "weight_decay": "\(weightDecay)",
        ]
    }

    /// The parameter's shape for a whole-tensor selection, else one value per selected entry.
    private func momentShape(of selected: SelectedParameter) -> [Int] {
        selected.entries == .all ? selected.shape : [selected.selectedCount]
    }

    /// Checks that `names` names each of `count` parameters once.
    private static func checkNames(_ names: [String], count: Int) {
        precondition(
            names.count == count,
            "SparseAdamW state: \(names.count) parameter names for \(count) parameters")
        precondition(Set(names).count == names.count, "SparseAdamW state: parameter names repeat")
    }
}
