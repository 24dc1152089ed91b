import Foundation

/// What an example fine-tunes on: training examples, the held-out ones it is measured on, and a
/// name for its summary.
public struct FineTuningTask: Sendable {
    /// A short description for the summary table.
    public var name: String
    /// The examples trained on.
    public var training: [TextExample]
    /// The examples kept for evaluation.
    public var heldOut: [TextExample]

    /// A task with these examples.
    public init(name: String, training: [TextExample], heldOut: [TextExample]) {
        self.name = name
        self.training = training
        self.heldOut = heldOut
    }

    /// The examples of a JSON Lines file, a tenth of them (at most 200) held out at random.
    ///
    /// - Throws: ``DatasetError`` naming the file and the line.
    public init(
        jsonLines url: URL, promptKey: String = "prompt", completionKey: String = "completion",
        seed: UInt64
    ) throws {
        let examples = try TextExample.load(
            jsonLines: url, promptKey: promptKey, completionKey: completionKey)
        let split = examples.splitHeldOut(seed: seed)
        self.init(name: url.lastPathComponent, training: split.training, heldOut: split.heldOut)
    }

    /// The yell skill (flip, then caps), which the examples' base models never saw, on words the
    /// training examples never use: 2,000 to train on and 200 held out, or 64 and 8 for `smoke`.
    public static func yell(
        _ generator: StringTaskGenerator, smoke: Bool, seed: UInt64
    ) -> FineTuningTask {
        let split = generator.split(
            skills: [.yell], trainingCount: smoke ? 64 : 2000, heldOutCount: smoke ? 8 : 200,
            seed: seed)
        return FineTuningTask(
            name: "yell (flip, then caps), new to the base", training: split.training,
            heldOut: split.heldOut)
    }
}
