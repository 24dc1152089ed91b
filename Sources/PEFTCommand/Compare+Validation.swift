import ArgumentParser

extension Compare {
    /// Refuses values no run could use before starting any: each run would fail alike, and a report
    /// of methods that all failed is no report.
    func validate() throws {
        guard steps > 0, batchSize > 0, rank > 0 else {
            throw ValidationError("--steps, --batch-size and --rank must be positive")
        }
        if let alpha, !alpha.isFinite {
            throw ValidationError("--alpha must be a finite number, got \(alpha)")
        }
        guard (model == nil) != (config == nil) else {
            throw ValidationError("give exactly one of --model and --config")
        }
        guard (data == nil) != (task == nil) else {
            throw ValidationError("give exactly one of --data and --task")
        }
    }
}
