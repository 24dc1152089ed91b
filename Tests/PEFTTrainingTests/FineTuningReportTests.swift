import Foundation
import PEFTTestSupport
import PEFTTraining
import Testing

/// A fresh temporary folder.
func temporaryFolder() throws -> URL {
    let folder = testScratchRoot.appendingPathComponent(
        "peft-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// A measurement whose generations are `generated`, one per prompt "a", "b", ...
func measurement(_ generated: [String], loss: Float? = nil) -> HeldOutSet.Measurement {
    let examples = generated.indices.map {
        TextExample(prompt: String(UnicodeScalar(97 + $0)!), completion: "x")
    }
    var outputs = generated.makeIterator()
    return HeldOutSet.Measurement(
        loss: loss, exactMatch: ExactMatchEvaluation(examples) { _ in outputs.next()! })
}

@Suite("The examples' report")
struct FineTuningReportTests {
    @Test("A reload that generates anything else throws ReloadMismatch naming the folder")
    func reloadMismatch() throws {
        let folder = URL(fileURLWithPath: "/tmp/adapter")
        var report = FineTuningReport(title: "run")
        report.record(after: measurement(["x", "y"]))
        #expect(
            throws: ReloadMismatch(
                folder: folder.path, trained: "50.0% (1/2)", reloaded: "0.0% (0/2)")
        ) {
            try report.checkReload(measurement(["z", "y"]), from: folder)
        }
        try report.checkReload(measurement(["x", "y"]), from: folder)
        #expect(report.rendered.contains("| exact match reloaded | 50.0% (1/2), identical"))
    }

    @Test("The rendering lists the generations, then the rows in the order they were recorded")
    func rendering() throws {
        var report = FineTuningReport(title: "gpt-finetuning --method lora")
        report.summary.add("base model", "folder")
        report.record(FineTuningTask(name: "yell", training: [], heldOut: []))
        report.record(before: measurement(["y", "y"], loss: 2.5))
        report.record(after: measurement(["x", "y"], loss: 1.25))
        let lines = report.rendered.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "Held-out generations:")
        #expect(lines[1] == #"  "a" → "x"  ok"#)
        #expect(lines[2] == #"  "b" → "y"  expected "x""#)
        #expect(lines[4] == "gpt-finetuning --method lora")
        let names = lines.dropFirst(8).map {
            $0.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? ""
        }
        #expect(
            Array(names.prefix(6)) == [
                "base model", "task", "examples", "held-out loss", "exact match before",
                "exact match after",
            ])
        #expect(report.rendered.contains("| held-out loss       | 2.5000 → 1.2500"))
        #expect(names.last == "total time")
    }

    @Test("The held-out set generates just past its longest completion")
    func generationBudget() {
        let heldOut = HeldOutSet(
            [
                TextExample(prompt: "p", completion: "abc"),
                TextExample(prompt: "q", completion: "abcdefg"),
            ], tokenizer: ByteTokenizer(), maximumLength: 32)
        #expect(heldOut.maximumNewTokens == 7 + 4)
    }
}

@Suite("The examples' own base model")
struct BaseModelRecipeTests {
    static let recipe = BaseModelRecipe<GPT2LMHeadModel>(
        configuration: tinyConfiguration, skills: [.copy, .flip, .flip], steps: 3, batchSize: 2,
        learningRate: 1e-3, seed: 5, wordLengths: 3...4)

    @Test("A base is pre-trained once, reused while its recipe is the same, and rebuilt when not")
    func caching() throws {
        let folder = try temporaryFolder().appendingPathComponent("base")
        var pretrained: [Int] = []
        func base(_ recipe: BaseModelRecipe<GPT2LMHeadModel>) throws -> SummaryTable {
            var summary = SummaryTable(title: "")
            let (found, tokenizer) = try recipe.baseModel(
                huggingFaceFolder: nil,
                cache: folder.path, summary: &summary
            ) { full, batches in
                // The whole model trains, on the recipe's batches.
                #expect(full.method == .full && !full.trainable.isEmpty)
                let batch = batches.next()!
                #expect(batch.count == 2 && batch.allSatisfy { !$0.prompt.hasPrefix("caps") })
                pretrained.append(recipe.steps)
                return TrainingRun(label: "pre-train", steps: recipe.steps)
            }
            #expect(found.path == folder.path && tokenizer is ByteTokenizer)
            return summary
        }
        let first = try base(Self.recipe)
        #expect(first.rows.first?.value.contains("pre-trained now: 3 steps") == true)
        #expect(BaseModelRecipe<GPT2LMHeadModel>.saved(in: folder) == Self.recipe)
        let loaded = try GPT2LMHeadModel(contentsOf: folder)
        #expect(loaded.configuration.embeddingSize == tinyConfiguration.embeddingSize)

        let second = try base(Self.recipe)
        #expect(second.rows.first?.value == "\(folder.path) (cached)")
        var longer = Self.recipe
        longer.steps = 4
        _ = try base(longer)
        #expect(pretrained == [3, 4])
    }

    @Test("A Hugging Face folder is used as it is, with the tokenizer read from it")
    func huggingFaceFolder() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PEFTTokenizersTests/Fixtures/gpt2-bpe").standardized
        var summary = SummaryTable(title: "")
        let (folder, tokenizer) = try Self.recipe.baseModel(
            huggingFaceFolder: fixture.path, cache: "/unused",
            summary: &summary
        ) { _, _ in
            Issue.record("a given folder is not pre-trained")
            return TrainingRun(label: "", steps: 1)
        }
        #expect(folder.path == fixture.path && summary.rows.map(\.value) == [fixture.path])
        let expected = try GPT2Tokenizer(contentsOf: fixture)
        #expect(tokenizer.encode("Hello world") == expected.encode("Hello world"))
        #expect(!(tokenizer is ByteTokenizer))
    }
}

@Test("A training run measures the held-out loss every evalEvery steps and at the last")
func trainingRunEvaluatesWhenDue() throws {
    let model = GPT2LMHeadModel(configuration: tinyConfiguration, seed: 1)
    let prepared = try PreparedModel(untouched: model)
    let heldOut = HeldOutSet(
        [TextExample(prompt: "ab", completion: "c")], tokenizer: ByteTokenizer(), maximumLength: 32)
    var run = TrainingRun(label: "test", steps: 5, heldOut: heldOut, evalEvery: 2)
    for step in 1...5 {
        run.recordStep(step, startedAt: run.timer.now, loss: 1, learningRate: 0, tokens: 3)
        run.evaluateIfDue(step, prepared)
    }
    #expect(run.curve.evaluation.map(\.step) == [2, 4, 5])
    #expect(run.curve.evaluation.allSatisfy { $0.loss == heldOut.loss(of: prepared) })
    #expect(run.tokens == 15 && run.timer.steps == 5)
}
