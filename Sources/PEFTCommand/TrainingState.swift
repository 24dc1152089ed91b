import Foundation

/// The position of a training run, saved with every checkpoint so that `--resume` continues it.
struct TrainingState: Codable {
    /// Optimizer steps taken.
    var step: Int
    /// The run's `--seed`.
    var seed: UInt64
    /// The run's `--method`.
    var method: String
    /// The lowest validation loss so far, kept in `OUT/best`; nil before the first evaluation.
    var bestValidationLoss: Float? = nil
    /// The step of ``bestValidationLoss``.
    var bestStep: Int? = nil
    /// Evaluations since the validation loss last improved, for early stopping.
    var evaluationsWithoutImprovement = 0

    /// Counts an evaluation's loss; true when it is the best so far (the first always is).
    mutating func recordValidation(loss: Float) -> Bool {
        guard loss.isFinite, bestValidationLoss.map({ loss < $0 }) ?? true else {
            evaluationsWithoutImprovement += 1
            return false
        }
        (bestValidationLoss, bestStep, evaluationsWithoutImprovement) = (loss, step, 0)
        return true
    }

    static let fileName = "trainer_state.json"

    private enum CodingKeys: String, CodingKey {
        case step, seed, method, bestValidationLoss, bestStep, evaluationsWithoutImprovement
    }

    init(step: Int, seed: UInt64, method: String) {
        (self.step, self.seed, self.method) = (step, seed, method)
    }

    /// Reads a state; a checkpoint written before validation existed has none of its fields.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        step = try container.decode(Int.self, forKey: .step)
        seed = try container.decode(UInt64.self, forKey: .seed)
        method = try container.decode(String.self, forKey: .method)
        bestValidationLoss = try container.decodeIfPresent(Float.self, forKey: .bestValidationLoss)
        bestStep = try container.decodeIfPresent(Int.self, forKey: .bestStep)
        evaluationsWithoutImprovement =
            try container.decodeIfPresent(Int.self, forKey: .evaluationsWithoutImprovement) ?? 0
    }

    /// Reads the state in a checkpoint folder, throwing ``CommandError`` naming the file.
    static func read(from folder: URL) throws -> TrainingState {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CommandError("--resume: \(url.path) is missing")
        }
        do { return try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw CommandError("--resume: \(url.path) is not a training state (\(error))")
        }
    }

    /// Writes the state into a checkpoint folder.
    func write(to folder: URL) throws {
        try JSONEncoder().encode(self).write(
            to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
