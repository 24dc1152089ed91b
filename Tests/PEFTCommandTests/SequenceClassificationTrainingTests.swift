import Foundation
import PEFTModels
import PEFTTestSupport
import PEFTTraining
import Testing

@Suite("peft train --task-type seq-cls")
struct SequenceClassificationTrainingTests {
    /// A tiny random causal language model folder of `family` (gpt2 or llama) sized for the byte
    /// tokenizer.
    func baseFolder(_ family: String, in root: URL) throws -> URL {
        let folder = root.appendingPathComponent("base")
        if family == "llama" {
            let model = LlamaForCausalLM(
                configuration: LlamaConfiguration {
                    $0.vocabularySize = ByteTokenizer().vocabularySize
                    $0.hiddenSize = 32
                    $0.intermediateSize = 64
                    $0.layerCount = 2
                    $0.headCount = 4
                    $0.keyValueHeads = 2
                    $0.maximumPositions = 16
                    $0.initializerRange = 0.2
                }, seed: 4)
            try model.save(to: folder)
            return folder
        }
        try byteGPT2Folder(folder, maximumPositions: 16, seed: 4) { $0.initializerRange = 0.2 }
        return folder
    }

    /// `count` lines of six letters from "uvwxyz", labelled "yes" when an "x" is among them.
    func writeData(_ count: Int, to url: URL) throws -> [(text: String, label: Int)] {
        var generator = RandomGenerator(seed: 11)
        let letters = Array("uvwxyz")
        let rows = (0..<count).map { _ -> (String, Int) in
            let text = String((0..<6).map { _ in letters[Int(generator.next() % 6)] })
            return (text, text.contains("x") ? 1 : 0)
        }
        let lines = rows.map { #"{"text": "\#($0.0)", "label": "\#($0.1 == 1 ? "yes" : "no")"}"# }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return rows
    }

    func summary(_ run: PEFTProcess) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    @Test(
        "A LoRA classifier learns a held-out task; its adapter is SEQ_CLS, saves score, reloads",
        arguments: ["gpt2", "llama"])
    func learnsAndReloads(family: String) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = try baseFolder(family, in: root)
        let data = root.appendingPathComponent("train.jsonl")
        let rows = try writeData(704, to: data)
        let common = [
            "train", "--model", base.path, "--tokenizer", "byte", "--task-type", "seq-cls",
            "--data", data.path, "--eval-examples", "64", "--batch-size", "16", "--seed", "1",
            "--json",
        ]
        let untrained = try PEFTProcess(
            common + ["--steps", "1", "--lr", "0", "--out", root.appendingPathComponent("u").path])
        #expect(untrained.status == 0, "\(untrained.standardError)")
        let out = root.appendingPathComponent("out")
        let trained = try PEFTProcess(
            common + ["--steps", "80", "--lr", "0.02", "--out", out.path])
        #expect(trained.status == 0, "\(trained.standardError)")
        let start = try #require(try summary(untrained)["accuracy"] as? Double)
        let end = try #require(try summary(trained)["accuracy"] as? Double)
        print("\(family) seq-cls held-out accuracy \(start) → \(end)")
        #expect(end >= 0.9 && end > start + 0.2, "held-out accuracy \(start) → \(end)")
        #expect(trained.standardError.contains(#"0 = "no", 1 = "yes""#))

        let adapter = out.appendingPathComponent("adapter")
        let configuration = try adapterConfiguration(adapter)
        #expect(configuration["task_type"] as? String == "SEQ_CLS")
        #expect((configuration["modules_to_save"] as? [String])?.contains("score") == true)

        // The saved adapter reloads onto the folder's body and predicts the held-out rows as well.
        let heldOut = Array(rows.suffix(64))
        let texts = heldOut.map(\.text)
        let logits =
            family == "llama"
            ? try reloadedLogits(
                LlamaForSequenceClassification(contentsOf: base, labelCount: 2, seed: 99),
                adapter: adapter, texts: texts)
            : try reloadedLogits(
                GPT2ForSequenceClassification(contentsOf: base, labelCount: 2, seed: 99),
                adapter: adapter, texts: texts)
        let correct = zip(heldOut, logits).filter { ($1[1] > $1[0] ? 1 : 0) == $0.label }.count
        #expect(Double(correct) / 64 == end)
        try export(
            family, base: base, adapter: adapter, texts: Array(texts.prefix(8)), logits: logits)
    }

    /// Each text's class logits, one unpadded row at a time, from `adapter` loaded on `model`.
    func reloadedLogits<Base: SequenceClassifier & AdaptableModel>(
        _ model: Base, adapter: URL, texts: [String]
    ) throws -> [[Float]] {
        let peft = try PEFTModel.load(model, from: adapter)
        peft.eval()
        let tokenizer = ByteTokenizer()
        return withoutGradients {
            texts.map {
                peft.classificationLogits(DecoderInputs(tokenIDs: [tokenizer.encode($0)])).scalars
            }
        }
    }

    /// With `PEFT_EXPORT_DIR` set, leaves the base, the adapter and Swift's logits there for
    /// Scripts/fixtures/check_swift_adapters.py.
    func export(_ family: String, base: URL, adapter: URL, texts: [String], logits: [[Float]])
        throws
    {
        guard let directory = ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"] else { return }
        let root = URL(fileURLWithPath: directory)
        let folder = root.appendingPathComponent("lora-\(family)-seq-cls-trained")
        let baseCopy = root.appendingPathComponent("\(family)-seq-cls-trained-base")
        for url in [folder, baseCopy] { try? FileManager.default.removeItem(at: url) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: adapter, to: folder)
        try FileManager.default.copyItem(at: base, to: baseCopy)
        let tokenizer = ByteTokenizer()
        let record: [String: Any] = [
            "task_type": "SEQ_CLS", "base_folder": baseCopy.path,
            "input_ids": texts.map { tokenizer.encode($0) },
            "logits": logits.prefix(texts.count).map { $0.map(Double.init) },
        ]
        try JSONSerialization.data(withJSONObject: record).write(
            to: folder.appendingPathComponent("swift_logits.json"))
    }

    @Test(
        "Bad lines are refused naming the file and the line",
        arguments: [
            (#"{"text": "a", "label": 0}\n{"label": 1}"#, ":2: missing the string field \"text\""),
            (#"{"text": "a", "label": 0}\n{"text": "b"}"#, ":2: missing the field \"label\""),
            (#"{"text": "a", "label": -1}"#, ":1: label -1 is out of range"),
            (
                #"{"text": "a", "label": 0}\n\n{"text": "b", "label": "x"}"#,
                ":3: label \"x\" is a name"
            ),
            (
                #"{"text": "a", "label": 1.5}"#,
                ":1: \"label\" must be an integer class index or a string"
            ),
            (
                #"{"text": "a", "label": true}"#,
                ":1: \"label\" must be an integer class index or a string"
            ),
            ("not json", ":1: not valid JSON"),
        ])
    func badData(contents: String, message: String) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("bad.jsonl")
        try contents.replacingOccurrences(of: "\\n", with: "\n").write(
            to: data, atomically: true, encoding: .utf8)
        let run = try PEFTProcess([
            "train", "--config", "micro", "--task-type", "seq-cls", "--data", data.path,
            "--steps", "1", "--out", root.appendingPathComponent("out").path,
        ])
        #expect(run.status != 0)
        #expect(run.standardError.contains(data.path + message), "\(run.standardError)")
    }

    @Test("seq-cls refuses a method without an adapter and a built-in task")
    func refusesOptions() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let full = try PEFTProcess([
            "train", "--config", "micro", "--task-type", "seq-cls", "--data", "x.jsonl",
            "--method", "full", "--out", root.path,
        ])
        #expect(full.status != 0 && full.standardError.contains("--method must be one of"))
        let task = try PEFTProcess([
            "train", "--config", "micro", "--task-type", "seq-cls", "--task", "flip",
            "--out", root.path,
        ])
        #expect(task.status != 0 && task.standardError.contains("needs --data"))
    }
}
