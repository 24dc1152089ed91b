// The example's own base model: a small T5 pre-trained on string skills, cached as a Hugging Face
// folder together with the recipe that made it.
import Foundation
import PEFTTraining

/// How the example's base model is built and pre-trained; saved next to it as `recipe.json`, so a
/// cached base made by another recipe is rebuilt rather than reused.
struct BaseRecipe: Codable, Equatable {
    var configuration: T5Configuration
    var skills: [String]
    var steps: Int
    var batchSize: Int
    var learningRate: Float
    var seed: UInt64
    var shortestWord: Int
    var longestWord: Int

    /// The default base: 2 + 2 blocks, 128 wide, 4 heads of 32, the byte vocabulary (258). The
    /// decoder starts from the padding id, 256, and stops at end-of-sequence, 257.
    static let standard = BaseRecipe(
        configuration: T5Configuration {
            $0.vocabularySize = ByteTokenizer().vocabularySize
            $0.modelSize = 128
            $0.headSize = 32
            $0.headCount = 4
            $0.feedForwardSize = 512
            $0.encoderLayerCount = 2
            $0.decoderLayerCount = 2
            $0.dropoutRate = 0
            $0.padTokenID = ByteTokenizer.padding
            $0.decoderStartTokenID = ByteTokenizer.padding
            $0.eosTokenID = ByteTokenizer.endOfSequence
        },
        skills: [StringSkill.copy, .flip, .caps].map(\.keyword),
        steps: 5000, batchSize: 32, learningRate: 2e-3, seed: 1234, shortestWord: 3,
        longestWord: 6)

    /// A base small enough for `--smoke` to pre-train in a second, even in debug.
    static let smoke: BaseRecipe = {
        var recipe = standard
        recipe.configuration.modelSize = 32
        recipe.configuration.headSize = 8
        recipe.configuration.feedForwardSize = 64
        recipe.configuration.encoderLayerCount = 1
        recipe.configuration.decoderLayerCount = 1
        recipe.steps = 4
        recipe.batchSize = 8
        return recipe
    }()

    /// The skills as values.
    var stringSkills: [StringSkill] { skills.compactMap(StringSkill.init(rawValue:)) }

    /// The generator of the pre-training and fine-tuning words.
    var generator: StringTaskGenerator {
        StringTaskGenerator(lengths: shortestWord...longestWord, format: .inputTarget)
    }

    static let fileName = "recipe.json"

    /// The recipe saved in `folder`, if any.
    static func saved(in folder: URL) -> BaseRecipe? {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
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
