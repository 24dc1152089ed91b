import PEFTTraining
import Testing

@Test("A causal batch labels completions only and masks prompt and padding with -100")
func causalBatchMasksPromptAndPadding() {
    let batch = CausalLanguageModelingBatch(
        examples: [
            TextExample(prompt: "ab", completion: "c"),
            TextExample(prompt: "a", completion: "xyz"),
        ], tokenizer: ByteTokenizer())
    let (pad, end, ignored) = (ByteTokenizer.padding, ByteTokenizer.endOfSequence, ignoredTarget)
    #expect(batch.tokenIDs == [[97, 98, 99, end, pad], [97, 120, 121, 122, end]])
    #expect(batch.attentionMask == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    #expect(
        batch.labels == [[ignored, ignored, 99, end, ignored], [ignored, 120, 121, 122, end]])
    #expect(batch.tokenCount == 9)
    #expect(batch.labelCount == 6)
}

@Test("The label count leaves out a row's first label, which no position predicts")
func causalLabelCountSkipsTheFirstPosition() {
    let batch = CausalLanguageModelingBatch(
        examples: [TextExample(prompt: "", completion: "ab")], tokenizer: ByteTokenizer())
    #expect(batch.labels == [[97, 98, ByteTokenizer.endOfSequence]])
    // The loss shifts the labels by one: positions 0 and 1 predict "b" and end-of-sequence.
    #expect(batch.labelCount == 2)
}

@Test("Every causal label is its own token or -100, and every row has the batch's length")
func causalLabelsAlignWithTokens() {
    let examples = StringTaskGenerator().examples(skills: [.flip, .caps], count: 16, seed: 2)
    let batch = CausalLanguageModelingBatch(examples: examples, tokenizer: ByteTokenizer())
    let length = batch.tokenIDs[0].count
    for (row, example) in zip(batch.tokenIDs.indices, examples) {
        #expect(batch.tokenIDs[row].count == length && batch.labels[row].count == length)
        for (token, label) in zip(batch.tokenIDs[row], batch.labels[row]) {
            #expect(label == ignoredTarget || label == token)
        }
        let labelled = batch.labels[row].filter { $0 != ignoredTarget }
        #expect(
            labelled == ByteTokenizer().encode(example.completion, appendingEndOfSequence: true))
        let promptLength = example.prompt.utf8.count
        #expect(batch.labels[row].prefix(promptLength).allSatisfy { $0 == ignoredTarget })
    }
}

@Test("A causal batch truncates rows to the maximum length")
func causalBatchTruncates() {
    let batch = CausalLanguageModelingBatch(
        examples: [TextExample(prompt: "abc", completion: "defg")], tokenizer: ByteTokenizer(),
        maximumLength: 5)
    #expect(batch.tokenIDs == [[97, 98, 99, 100, 101]])
    #expect(batch.labels == [[ignoredTarget, ignoredTarget, ignoredTarget, 100, 101]])
}

@Test("A seq2seq batch shifts the labels right behind the start token and pads with -100")
func seq2SeqBatchShiftsLabels() {
    let batch = Seq2SeqBatch(
        examples: [
            TextExample(prompt: "ab", completion: "c"),
            TextExample(prompt: "a", completion: "xy"),
        ], tokenizer: ByteTokenizer(), decoderStartTokenID: ByteTokenizer.padding)
    let (pad, end, ignored) = (ByteTokenizer.padding, ByteTokenizer.endOfSequence, ignoredTarget)
    #expect(batch.inputIDs == [[97, 98, end], [97, end, pad]])
    #expect(batch.attentionMask == [[1, 1, 1], [1, 1, 0]])
    #expect(batch.decoderInputIDs == [[pad, 99, pad], [pad, 120, 121]])
    #expect(batch.labels == [[99, end, ignored], [120, 121, end]])
    #expect(batch.flatLabels == [99, end, ignored, 120, 121, end])
    #expect(batch.labelCount == 5)
    #expect(batch.tokenCount == 10)
}

@Test("Shuffled batches are the same for the same seed and cover an epoch without repeats")
func shuffledBatchesCoverEpochs() {
    let examples = (0..<10).map { TextExample(prompt: "\($0)", completion: "") }
    var first = ShuffledBatches(examples, batchSize: 5, seed: 4)
    var again = ShuffledBatches(examples, batchSize: 5, seed: 4)
    let epoch = first.next()! + first.next()!
    #expect(Set(epoch).count == 10)
    #expect(again.next()! + again.next()! == epoch)
    #expect(first.epoch == 0)
    _ = first.next()
    #expect(first.epoch == 1)
    #expect(examples.chunked(into: 4).map(\.count) == [4, 4, 2])
}
