import Foundation

/// How an example's own base model is built and pre-trained on string skills, saved beside the
/// model as `recipe.json` so that a base cached by another recipe is rebuilt rather than reused.
///
/// ```swift
/// let recipe = BaseModelRecipe<GPT2LMHeadModel>(
///     configuration: configuration, skills: [.copy, .flip, .caps], steps: 2500, batchSize: 32,
///     learningRate: 2e-3, seed: 1234, wordLengths: 3...6)
/// let (folder, tokenizer) = try recipe.baseModel(
///     huggingFaceFolder: nil, tokenizer: GPT2Tokenizer.self,
///     cache: ".peft-cache/gpt-base", summary: &summary
/// ) { full, batches in
///     // The example's own loop, over every parameter of the new model.
///     try train(full, batches: &batches, steps: recipe.steps)
/// }
/// ```
public struct BaseModelRecipe<Model: PretrainableModel>: Codable, Equatable {
    /// The model's configuration.
    public var configuration: Model.Configuration
    /// The keywords of the skills pre-trained on, drawn uniformly (a skill listed twice comes
    /// twice as often).
    public var skills: [String]
    /// Pre-training steps.
    public var steps: Int
    /// Examples per pre-training step.
    public var batchSize: Int
    /// The peak learning rate of pre-training.
    public var learningRate: Float
    /// The seed of the initialisation, the words and the batch order.
    public var seed: UInt64
    /// The shortest word of the examples.
    public var shortestWord: Int
    /// The longest word of the examples.
    public var longestWord: Int

    /// A recipe pre-training on `skills` with words of `wordLengths` letters.
    public init(
        configuration: Model.Configuration, skills: [StringSkill], steps: Int, batchSize: Int,
        learningRate: Float, seed: UInt64, wordLengths: ClosedRange<Int>
    ) {
        self.configuration = configuration
        self.skills = skills.map(\.keyword)
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        shortestWord = wordLengths.lowerBound
        longestWord = wordLengths.upperBound
    }

    /// The name of the recipe's file in a base model's folder.
    public static var fileName: String { "recipe.json" }

    /// The generator of the pre-training and fine-tuning words, writing examples as the model
    /// reads them.
    public var generator: StringTaskGenerator {
        StringTaskGenerator(lengths: shortestWord...longestWord, format: Model.exampleFormat)
    }

    /// The base model an example fine-tunes, as its folder and tokenizer: `huggingFaceFolder`
    /// with its `tokenizer` files when one is given; otherwise the example's own model with the byte
    /// tokenizer, reused from `cache` if this recipe made it, else fully trained there by
    /// `pretrain` on this recipe's batches. Adds the "base model" row either way.
    public func baseModel(
        huggingFaceFolder: String?, cache: String, summary: inout SummaryTable,
        pretrain: (PreparedModel, inout ShuffledBatches) throws -> TrainingRun
    ) throws -> (folder: URL, tokenizer: any Tokenizer) {
        if let huggingFaceFolder {
            // The folder's own tokenizer, in whichever style its files are written.
            let folder = URL(fileURLWithPath: huggingFaceFolder)
            summary.add("base model", folder.path)
            return (folder, try loadTokenizer(contentsOf: folder))
        }
        let folder = URL(fileURLWithPath: cache)
        if Self.saved(in: folder) == self {
            summary.add("base model", "\(folder.path) (cached)")
            return (folder, ByteTokenizer())
        }
        var names: [String] = []
        for skill in skills where !names.contains(skill) { names.append(skill) }
        let listed = names.dropLast().joined(separator: ", ") + " and " + names.last!
        printToStandardError(
            "Pre-training the base model on \(names.count > 1 ? listed : names[0]) for \(steps) "
                + "steps; it is cached in \(folder.path).")
        let model = Model(configuration: configuration, seed: seed)
        let examples = generator.examples(
            skills: skills.compactMap(StringSkill.init(rawValue:)), count: steps * batchSize,
            seed: seed)
        var batches = ShuffledBatches(examples, batchSize: batchSize, seed: seed)
        let full = try PreparedModel(
            base: model, method: .full, rank: 1, alpha: 1, targets: nil, virtualTokens: 1)
        let run = try pretrain(full, &batches)
        try model.save(to: folder)
        try save(in: folder)
        summary.add(
            "base model",
            "\(folder.path) (pre-trained now: \(steps) steps, \(formattedSeconds(run.timer.seconds)))"
        )
        return (folder, ByteTokenizer())
    }

    /// The recipe saved in `folder`, if there is one this type can read.
    public static func saved(in folder: URL) -> Self? {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(Self.self, from: data)
    }

    /// Writes the recipe into `folder`.
    public func save(in folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(
            to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}

extension BaseModelRecipe: Sendable where Model.Configuration: Sendable {}
