import ArgumentParser
import PEFTTraining

extension Train {
    /// The methods that train the base's own tensors, which a low-precision base stores frozen.
    static let methodsTrainingTheBase: Set<TrainingMethod> = [.full, .bitfit, .selective]

    /// Refuses `--base-dtype` below fp32 where the base itself would train.
    func validateBaseFormat() throws {
        guard baseFormat != .fp32 else { return }
        if Self.methodsTrainingTheBase.contains(method) {
            throw ValidationError(
                "--base-dtype \(baseFormat.rawValue): --method \(method.rawValue) trains the base's "
                    + "own weights, which a low-precision base keeps frozen; use --base-dtype fp32 "
                    + "or an adapter method")
        }
        if taskType != nil {
            throw ValidationError(
                "--base-dtype \(baseFormat.rawValue): --task-type seq-cls trains a new head beside "
                    + "the base; use --base-dtype fp32")
        }
    }
}
