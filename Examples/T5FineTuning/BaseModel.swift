// The example's own base model: a small T5 pre-trained on string skills, cached as a Hugging Face
// folder together with the recipe that made it.
import PEFTTraining

extension BaseModelRecipe<T5ForConditionalGeneration> {
    /// The default base: 2 + 2 blocks, 128 wide, 4 heads of 32, the byte vocabulary (258). The
    /// decoder starts from the padding id, 256, and stops at end-of-sequence, 257.
    static var standard: Self {
        Self(
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
            skills: [.copy, .flip, .caps], steps: 5000, batchSize: 32, learningRate: 2e-3,
            seed: 1234, wordLengths: 3...6)
    }

    /// A base small enough for `--smoke` to pre-train in a second, even in debug.
    static var smoke: Self {
        var recipe = standard
        recipe.configuration.modelSize = 32
        recipe.configuration.headSize = 8
        recipe.configuration.feedForwardSize = 64
        recipe.configuration.encoderLayerCount = 1
        recipe.configuration.decoderLayerCount = 1
        recipe.steps = 4
        recipe.batchSize = 8
        return recipe
    }
}
