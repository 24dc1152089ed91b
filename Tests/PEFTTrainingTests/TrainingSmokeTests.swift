import PEFTTraining
import Testing

/// A two-layer GPT-2 over the byte vocabulary, small enough to train in a debug test.
let tinyConfiguration = GPT2Configuration {
    $0.vocabularySize = ByteTokenizer().vocabularySize
    $0.maximumPositions = 32
    $0.embeddingSize = 32
    $0.layerCount = 2
    $0.headCount = 2
    $0.residualDropout = 0
    $0.embeddingDropout = 0
    // Embeddings wide enough that a frozen random model has something for LoRA to steer.
    $0.initializerRange = 0.3
    $0.eosTokenID = ByteTokenizer.endOfSequence
}

/// A one-block T5 over the byte vocabulary, decoding from the padding id.
let tinyT5Configuration = T5Configuration {
    $0.vocabularySize = ByteTokenizer().vocabularySize
    $0.modelSize = 32
    $0.headSize = 8
    $0.headCount = 4
    $0.feedForwardSize = 64
    $0.encoderLayerCount = 1
    $0.dropoutRate = 0
    $0.padTokenID = ByteTokenizer.padding
    $0.decoderStartTokenID = ByteTokenizer.padding
    $0.eosTokenID = ByteTokenizer.endOfSequence
}

@Test("A few LoRA steps through the training pieces lower a GPT-2's loss")
func loraStepsLowerGPT2Loss() throws {
    let model = GPT2LMHeadModel(configuration: tinyConfiguration, seed: 1)
    let adapter = try model.applyLoRA(
        rank: 4, alpha: 8, targets: .suffixes(["c_attn", "c_fc", "c_proj"]))
    let examples = StringTaskGenerator(lengths: 3...4).examples(
        skills: [.caps], count: 8, seed: 5)
    var batches = ShuffledBatches(examples, batchSize: 8, seed: 0)
    let optimizer = AdamW(adapter.trainableParameters, learningRate: 3e-2)
    let schedule = LearningRateSchedule.linearWarmupDecay(warmupSteps: 2, totalSteps: 25)
    var losses: [Float] = []
    model.train()
    for step in 0..<25 {
        let batch = CausalLanguageModelingBatch(
            examples: batches.next()!, tokenizer: ByteTokenizer())
        let loss = causalLanguageModelingLoss(
            logits: model(batch.tokenIDs, attentionMask: batch.attentionMask), labels: batch.labels)
        loss.backward()
        clipGradientNorm(adapter.trainableParameters, maxNorm: 1)
        optimizer.learningRate = schedule.learningRate(atStep: step, base: 3e-2)
        optimizer.step()
        optimizer.zeroGradients()
        losses.append(loss.scalar)
    }
    #expect(losses.last! < 0.8 * losses.first!, "losses: \(losses)")
}

@Test("A few LoRA steps through the training pieces lower a T5's loss")
func loraStepsLowerT5Loss() throws {
    let model = T5ForConditionalGeneration(configuration: tinyT5Configuration, seed: 1)
    let adapter = try model.applyLoRA(
        rank: 4, alpha: 8, targets: .suffixes(["q", "v", "wi", "wo"]))
    let examples = StringTaskGenerator(lengths: 3...4, format: .inputTarget).examples(
        skills: [.copy], count: 8, seed: 5)
    let batch = Seq2SeqBatch(
        examples: examples, tokenizer: ByteTokenizer(),
        decoderStartTokenID: tinyT5Configuration.decoderStartTokenID)
    let optimizer = AdamW(adapter.trainableParameters, learningRate: 1e-2)
    var losses: [Float] = []
    model.train()
    for _ in 0..<25 {
        let logits = model(
            inputIDs: batch.inputIDs, attentionMask: batch.attentionMask,
            decoderInputIDs: batch.decoderInputIDs)
        let loss = crossEntropy(logits: logits, targets: batch.flatLabels)
        loss.backward()
        optimizer.step()
        optimizer.zeroGradients()
        losses.append(loss.scalar)
    }
    #expect(losses.last! < 0.8 * losses.first!, "losses: \(losses)")
}
