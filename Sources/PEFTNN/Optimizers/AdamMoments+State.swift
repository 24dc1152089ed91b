/// Saving and loading one parameter's moments as `<name>.exp_avg`, `<name>.exp_avg_sq` and
/// `<name>.step`, PyTorch's state names.
extension AdamMoments {
    /// The state-file keys of the moments of the parameter `name`.
    package static func stateKeys(for name: String) -> [String] {
        ["exp_avg", "exp_avg_sq", "step"].map { "\(name).\($0)" }
    }

    /// Adds the moments to `file` as the parameter `name`'s, the averages with `shape`.
    package func write(to file: inout OptimizerStateWriter, name: String, shape: [Int]) throws {
        let keys = Self.stateKeys(for: name)
        try file.add(keys[0], shape: shape, storage: average)
        try file.add(keys[1], shape: shape, storage: squaredAverage)
        try file.add(keys[2], step: step)
    }

    /// Reads the parameter `name`'s moments from `file`, checking that the averages have `shape`.
    package init(from file: OptimizerStateReader, name: String, shape: [Int]) throws {
        let keys = Self.stateKeys(for: name)
        let average = try file.storage(keys[0], shape: shape)
        let squaredAverage = try file.storage(keys[1], shape: shape)
        self.init(step: try file.step(keys[2]), average: average, squaredAverage: squaredAverage)
    }
}
