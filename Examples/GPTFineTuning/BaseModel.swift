// The example's own base model: a small GPT-2 pre-trained on string skills, cached as a Hugging Face
// folder together with the recipe that made it.
import PEFTTraining

extension BaseModelRecipe<GPT2LMHeadModel> {
    /// The default base: 4 layers, 128 wide, 4 heads, the byte vocabulary (258), 64 positions.
    static var standard: Self {
        Self(
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
            skills: [.copy, .flip, .flip, .caps], steps: 2500, batchSize: 32, learningRate: 2e-3,
            seed: 1234, wordLengths: 3...6)
    }

    /// A base small enough for `--smoke` to pre-train in a second, even in debug.
    static var smoke: Self {
        var recipe = standard
        recipe.configuration.embeddingSize = 32
        recipe.configuration.layerCount = 2
        recipe.configuration.headCount = 2
        recipe.steps = 4
        recipe.batchSize = 8
        return recipe
    }
}
