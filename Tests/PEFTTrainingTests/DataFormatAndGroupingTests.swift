import Foundation
import PEFTTraining
import Testing

@Test("The data format is detected from a file's first line, as mlx-lm detects it")
func dataFormatDetection() throws {
    #expect(TrainingDataFormat.detect(keys: ["text", "meta"]) == .text)
    #expect(TrainingDataFormat.detect(keys: ["prompt", "completion"]) == .completion)
    #expect(TrainingDataFormat.detect(keys: ["input", "target"]) == .inputTarget)
    #expect(TrainingDataFormat.detect(keys: ["messages", "text"]) == .messages)
    #expect(TrainingDataFormat.detect(keys: ["prompt"]) == .completion)  // reports "completion"
    #expect(TrainingDataFormat.detect(keys: ["label"]) == nil)

    let text = try temporaryFile(
        """
        {"text": "a b c"}

        {"text": "d"}
        """)
    let (format, examples) = try TextExample.load(detectingFormatOf: text)
    #expect(format == .text)
    // Plain text has no prompt: every token carries loss.
    #expect(
        examples == [
            TextExample(prompt: "", completion: "a b c"), TextExample(prompt: "", completion: "d"),
        ])
    let batch = CausalLanguageModelingBatch(examples: [examples[0]], tokenizer: ByteTokenizer())
    #expect(!batch.labels[0].contains(ignoredTarget))

    let pairs = try temporaryFile(#"{"input": "x", "target": "y"}"#)
    #expect(
        try TextExample.load(detectingFormatOf: pairs).examples == [
            TextExample(prompt: "x", completion: "y")
        ])

    let mixed = try temporaryFile("{\"text\": \"a\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}")
    #expect(throws: DatasetError.missingField(file: mixed.path, line: 2, field: "text")) {
        try TextExample.load(detectingFormatOf: mixed)
    }
    let chat = try temporaryFile(#"{"messages": []}"#)
    // The generic reader names the file and line; peft train renders chat lines itself.
    #expect {
        try TextExample.load(detectingFormatOf: chat)
    } throws: { error in
        guard case DatasetError.unsupportedFormat(let file, let line, let reason) = error else {
            return false
        }
        return file == chat.path && line == 1 && reason.contains("chat template")
    }
}

@Test(
    "Grouped by length, each mega-batch is sorted longest first; the order is seeded and a permutation"
)
func groupByLength() throws {
    let examples = (0..<230).map {
        TextExample(prompt: "", completion: String(repeating: "a", count: $0 % 37))
    }
    let lengths = examples.map(\.completion.count)
    var grouped = ShuffledBatches(examples, batchSize: 2, seed: 5, groupingLengths: lengths)
    var again = ShuffledBatches(examples, batchSize: 2, seed: 5, groupingLengths: lengths)
    #expect(grouped.megaBatchSize == 100)
    // Two epochs: 230 examples, 115 batches each.
    var epochs: [[TextExample]] = [[], []]
    for index in 0..<230 {
        let batch = grouped.next()!
        #expect(batch == again.next()!)
        epochs[index / 115] += batch
    }
    for epoch in epochs {
        #expect(
            epoch.sorted { $0.completion < $1.completion }
                == examples.sorted { $0.completion < $1.completion })
        for start in stride(from: 0, to: 230, by: 100) {
            let mega = epoch[start..<min(start + 100, 230)].map(\.completion.count)
            #expect(mega == mega.sorted(by: >))
        }
    }
    // Padding is what grouping saves: the batches' longest-minus-shortest shrinks.
    var plain = ShuffledBatches(examples, batchSize: 2, seed: 5)
    func spread(_ batches: inout ShuffledBatches) -> Int {
        (0..<115).reduce(0) { total, _ in
            let counts = batches.next()!.map(\.completion.count)
            return total + counts.max()! - counts.min()!
        }
    }
    var fresh = ShuffledBatches(examples, batchSize: 2, seed: 5, groupingLengths: lengths)
    #expect(spread(&fresh) * 4 < spread(&plain))
}
