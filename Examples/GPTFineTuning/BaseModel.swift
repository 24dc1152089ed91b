// The example's own base model: a small GPT-2 pre-trained on string skills, cached as a Hugging Face
// folder together with the recipe that made it.
import Foundation
import PEFTTraining

/// How the example's base model is built and pre-trained; saved next to it as `recipe.json`, so a
/// cached base made by another recipe is rebuilt rather than reused.
struct BaseRecipe: Codable, Equatable {
    var configuration: GPT2Configuration
    var skills: [String]
    var steps: Int
    var batchSize: Int
    var learningRate: Float
    var seed: UInt64
    var shortestWord: Int
    var longestWord: Int

    /// The default base: 4 layers, 128 wide, 4 heads, the byte vocabulary (258), 64 positions.
    static let standard = BaseRecipe(
        configuration: GPT2Configuration {
            $0.vocabularySize = ByteTokenizer().vocabularySize
            $0.maximumPositions = 64
            $0.embeddingSize = 128
            $0.layerCount = 4
            $0.headCount = 4
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.attentionDropout = 0
            $0.bosTokenID = ByteTokenizer.endOfSequence
            $0.eosTokenID = ByteTokenizer.endOfSequence
        },
        // flip is the hardest of the three and the one yell needs most, so it comes twice as often.
        skills: [StringSkill.copy, .flip, .flip, .caps].map(\.keyword),
        steps: 2500, batchSize: 32, learningRate: 2e-3, seed: 1234, shortestWord: 3,
        longestWord: 6)

    /// A base small enough for `--smoke` to pre-train in a second, even in debug.
    static let smoke: BaseRecipe = {
        var recipe = standard
        recipe.configuration.embeddingSize = 32
        recipe.configuration.layerCount = 2
        recipe.configuration.headCount = 2
        recipe.steps = 4
        recipe.batchSize = 8
        return recipe
    }()

    /// The generator of the pre-training and fine-tuning words.
    var generator: StringTaskGenerator { StringTaskGenerator(lengths: shortestWord...longestWord) }

    /// The skills as values.
    var stringSkills: [StringSkill] { skills.compactMap(StringSkill.init(rawValue:)) }

    static let fileName = "recipe.json"

    /// The recipe saved in `folder`, if any.
    static func saved(in folder: URL) -> BaseRecipe? {
        guard
            let data = FileManager.default.contents(
                atPath: folder.appendingPathComponent(fileName).path)
        else { return nil }
        return try? JSONDecoder().decode(BaseRecipe.self, from: data)
    }

    /// Writes the recipe into `folder`.
    func save(in folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(
            to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
