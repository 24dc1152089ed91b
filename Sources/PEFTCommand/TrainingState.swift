import Foundation

/// The position of a training run, saved with every checkpoint so that `--resume` continues it.
struct TrainingState: Codable {
    /// Optimizer steps taken.
    var step: Int
    /// The run's `--seed`.
    var seed: UInt64
    /// The run's `--method`.
    var method: String

    static let fileName = "trainer_state.json"

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
