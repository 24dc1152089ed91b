import PEFTTraining
import Testing

@Test("Exact match compares generations character for character")
func exactMatchIsExact() {
    let examples = [
        TextExample(prompt: "a", completion: " A"),
        TextExample(prompt: "b", completion: " B"),
        TextExample(prompt: "c", completion: " C"),
        TextExample(prompt: "d", completion: " D"),
    ]
    let evaluation = ExactMatchEvaluation(examples) { prompt in
        prompt == "b" ? "B" : prompt == "c" ? " C " : " " + prompt.uppercased()
    }
    #expect(evaluation.correctCount == 2)
    #expect(evaluation.accuracy == 0.5)
    #expect(evaluation.formatted == "50.0% (2/4)")
    #expect(ExactMatchEvaluation([]) { $0 }.accuracy == 0)
}

@Test("The summary table lines up its columns")
func summaryTableRenders() {
    var summary = SummaryTable(title: "run")
    summary.add("exact match after", "97.5% (195/200)")
    summary.add("steps", "300")
    let lines = summary.rendered.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines[0] == "run")
    #expect(lines[2] == "| metric            | value           |")
    #expect(lines[3] == "|-------------------|-----------------|")
    #expect(lines[4] == "| exact match after | 97.5% (195/200) |")
    #expect(Set(lines.dropFirst(2).map(\.count)).count == 1)
}

@Test("Counts and byte sizes are written for people")
func formatting() {
    #expect(formattedCount(0) == "0")
    #expect(formattedCount(294_912) == "294,912")
    #expect(formattedCount(-1_234_567) == "-1,234,567")
    #expect(formattedByteCount(512) == "512 B")
    #expect(formattedByteCount(66_560) == "65.0 KiB")
    #expect(formattedByteCount(3 * 1024 * 1024 / 2) == "1.5 MiB")
}

@Test("Peak memory is read from /proc and is at least the current resident size")
func peakMemory() throws {
    let resident = try #require(ProcessMemory.residentBytes)
    let peak = try #require(ProcessMemory.peakResidentBytes)
    #expect(peak >= resident && resident > 0)
}

/// A causal model that produces a fixed script of tokens, one per forward pass.
final class ScriptedModel: CausalLanguageModel {
    let script: [Int]
    var calls = 0
    init(script: [Int]) { self.script = script }

    func logits(_ inputs: DecoderInputs) -> Tensor {
        var row = [Float](repeating: 0, count: 258)
        row[script[min(calls, script.count - 1)]] = 1
        calls += 1
        let length = inputs.shape[1]
        return Tensor(
            shape: [1, length, 258],
            scalars: Array([[Float]](repeating: row, count: length).joined()))
    }
    func embed(_ tokenIDs: [[Int]]) -> Tensor { Tensor.zeros([1, tokenIDs[0].count, 1]) }
    func makeCache() -> KeyValueCache { KeyValueCache(layerCount: 0) }
    var maximumLength: Int { 64 }
    var endOfSequenceTokenID: Int? { ByteTokenizer.endOfSequence }
}

@Test("Generated text stops at end-of-sequence and leaves it out")
func completionStopsAtEndOfSequence() throws {
    let (x, y, end) = (Int(Character("x").asciiValue!), Int(Character("y").asciiValue!), 257)
    let model = ScriptedModel(script: [x, y, end, x, x])
    #expect(try model.complete("ab", tokenizer: ByteTokenizer()) == "xy")
    let long = ScriptedModel(script: [x])
    #expect(try long.complete("ab", tokenizer: ByteTokenizer(), maximumNewTokens: 3) == "xxx")
}

@Test("A seq2seq model's generated text is decoded without end-of-sequence")
func seq2SeqCompletionIsText() {
    let t5 = T5ForConditionalGeneration(configuration: tinyT5Configuration, seed: 3)
    t5.eval()
    let text = t5.complete("ab", tokenizer: ByteTokenizer(), maximumNewTokens: 6)
    #expect(
        text.count <= 6
            && !text.contains("\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"))
}
