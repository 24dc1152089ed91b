import Foundation
import PEFTModels
import PEFTTestSupport
import PEFTTokenizers
import Testing

/// Runs the built `peft` executable and captures what it prints.
struct PEFTProcess {
    let status: Int32
    /// Whether a signal ended the process: a trap (precondition, bounds check) rather than an exit.
    let crashed: Bool
    let standardOutput: String
    let standardError: String

    /// The built product `name` (`peft`, `gpt-finetuning`), found beside the test bundle.
    static func executable(_ name: String) -> URL {
        let candidates = [
            Bundle.main.bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            let parent = directory.deletingLastPathComponent().appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: parent.path) { return parent }
        }
        return candidates[0].appendingPathComponent(name)
    }

    init(_ arguments: [String], executable name: String = "peft") throws {
        try self.init(arguments, executableURL: Self.executable(name))
    }

    /// Runs the program at `executableURL` (a launcher such as `mpirun`) with `arguments`.
    init(_ arguments: [String], executableURL: URL) throws {
        let process = Process()
        process.executableURL = executableURL
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        crashed = process.terminationReason == .uncaughtSignal
        standardOutput = String(decoding: outputData, as: UTF8.self)
        standardError = String(decoding: errorData, as: UTF8.self)
    }
}

/// The `adapter_config.json` of an adapter folder.
func adapterConfiguration(_ folder: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: folder.appendingPathComponent("adapter_config.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Saves into `folder` a random two-layer GPT-2 of width 32 for the byte tokenizer with every dropout
/// off, so that runs that split batches differently compute the same function.
func byteGPT2Folder(
    _ folder: URL, maximumPositions: Int, seed: UInt64,
    _ adjust: (inout GPT2Configuration) -> Void = { _ in }
) throws {
    var configuration = GPT2Configuration {
        $0.vocabularySize = ByteTokenizer().vocabularySize
        $0.maximumPositions = maximumPositions
        $0.embeddingSize = 32
        $0.layerCount = 2
        $0.headCount = 2
        $0.residualDropout = 0
        $0.embeddingDropout = 0
        $0.attentionDropout = 0
    }
    adjust(&configuration)
    try GPT2LMHeadModel(configuration: configuration, seed: seed).save(to: folder)
}

/// A fresh temporary folder.
func temporaryFolder() throws -> URL {
    let folder = testScratchRoot.appendingPathComponent(
        "peft-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("The peft command")
struct CommandTests {
    func printedLogits(_ output: String) throws -> [[Float]] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        return (object["logits"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
    }

    @Test("peft forward prints GPT-2 logits that match transformers")
    func forwardGPT2() throws {
        let parity = try ParityFixture("gpt2-tiny").cases[0]
        let ids = parity.inputIDs[0]
        let run = try PEFTProcess([
            "forward", "--model", ParityFixture.folder("gpt2-tiny").path, "--input-ids",
            ids.map(String.init).joined(separator: ","), "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let logits = try printedLogits(run.standardOutput)
        #expect(logits.count == ids.count)
        let expected = Array(parity.logits.prefix(ids.count * parity.logitsShape[2]))
        expectClose(logits.flatMap { $0 }, expected, tolerance: 1e-4)
    }

    @Test("peft forward prints T5 decoder logits that match transformers")
    func forwardT5() throws {
        let parity = try ParityFixture("t5-v1_1-tiny").cases[0]
        let run = try PEFTProcess([
            "forward", "--model", ParityFixture.folder("t5-v1_1-tiny").path,
            "--input-ids", parity.inputIDs[0].map(String.init).joined(separator: ","),
            "--decoder-input-ids",
            parity.decoderInputIDs![0].map(String.init).joined(separator: ","), "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let logits = try printedLogits(run.standardOutput)
        let positions = parity.decoderInputIDs![0].count
        #expect(logits.count == positions)
        expectClose(
            logits.flatMap { $0 }, Array(parity.logits.prefix(positions * parity.logitsShape[2])),
            tolerance: 1e-4)
    }

    @Test("Bad input gives one line on stderr naming the problem, and a non-zero exit")
    func errors() throws {
        let gpt2 = ParityFixture.folder("gpt2-tiny").path
        let broken = try temporaryFolder()
        try Data("{ not json".utf8).write(to: broken.appendingPathComponent("config.json"))
        let llama = try temporaryFolder()
        try Data(#"{"model_type": "bert"}"#.utf8).write(
            to: llama.appendingPathComponent("config.json"))
        let llamaWithoutWeights = try temporaryFolder()
        try Data(#"{"model_type": "llama"}"#.utf8).write(
            to: llamaWithoutWeights.appendingPathComponent("config.json"))
        let noWeights = try temporaryFolder()
        try FileManager.default.copyItem(
            at: ParityFixture.folder("gpt2-tiny").appendingPathComponent("config.json"),
            to: noWeights.appendingPathComponent("config.json"))
        let cases: [([String], String)] = [
            (["forward", "--model", "/nonexistent/model", "--input-ids", "1"], "does not exist"),
            (["forward", "--model", broken.path, "--input-ids", "1"], "config.json"),
            (
                ["forward", "--model", llama.path, "--input-ids", "1"],
                "model_type 'bert' is not supported"
            ),
            (["forward", "--model", noWeights.path, "--input-ids", "1"], "model.safetensors"),
            // Llama's defaults describe a 7B model: the missing weights must fail before it is built.
            (
                ["forward", "--model", llamaWithoutWeights.path, "--input-ids", "1"],
                "model.safetensors"
            ),
            (["forward", "--model", gpt2, "--input-ids", "1,999"], "token id 999 is out of range"),
            (["forward", "--model", gpt2, "--input-ids", "1,x"], "'x' is not a token id"),
            (
                ["forward", "--model", gpt2, "--input-ids", "1", "--decoder-input-ids", "0"],
                "decoder-only"
            ),
            (["generate", "--model", gpt2, "--prompt", "hi"], "tokenizer.json"),
            (["generate", "--model", gpt2, "--prompt", "hi", "--max-tokens", "0"], "--max-tokens"),
        ]
        for (arguments, phrase) in cases {
            let run = try PEFTProcess(arguments)
            #expect(run.status != 0, "\(arguments) exited 0")
            let lines = run.standardError.split(separator: "\n").filter { !$0.isEmpty }
            #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
            #expect(!run.standardError.contains("Fatal error"), "\(arguments) crashed")
            #expect(lines.count <= 3, "\(arguments): \(run.standardError)")
        }
    }

    @Test("peft generate continues a prompt by exactly --max-tokens tokens when no token ends it")
    func generate() throws {
        let folder = try temporaryFolder()
        let tokenizerFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PEFTTokenizersTests/Fixtures/gpt2-bpe/tokenizer.json")
            .standardized
        try FileManager.default.copyItem(
            at: tokenizerFolder, to: folder.appendingPathComponent("tokenizer.json"))
        let model = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 800
                $0.maximumPositions = 64
                $0.embeddingSize = 16
                $0.layerCount = 1
                $0.headCount = 2
                $0.eosTokenID = nil
            }, seed: 1)
        try model.save(to: folder)
        func generate(_ maximumTokens: Int, _ options: [String] = []) throws -> PEFTProcess {
            try PEFTProcess(
                [
                    "generate", "--model", folder.path, "--prompt", "Hello", "--max-tokens",
                    "\(maximumTokens)",
                ] + options)
        }
        /// The generated ids and the text that `--json` prints.
        func generated(_ maximumTokens: Int, _ options: [String] = []) throws -> ([Int], String) {
            let run = try generate(maximumTokens, options + ["--json"])
            #expect(run.status == 0, "\(run.standardError)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8))
                    as? [String: Any])
            return (
                try #require(object["generated_ids"] as? [Int]),
                try #require(object["text"] as? String)
            )
        }
        let run = try generate(5)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.hasPrefix("Hello"))
        #expect(try generate(5).standardOutput == run.standardOutput)
        // The model has no end-of-sequence token, so it generates exactly --max-tokens tokens.
        let (ids, text) = try generated(5)
        #expect(ids.count == 5 && ids.allSatisfy { (0..<800).contains($0) })
        #expect(text + "\n" == run.standardOutput)
        #expect(try generated(2).0 == Array(ids.prefix(2)))
        let sampled = try generated(3, ["--temperature", "1", "--seed", "2"])
        #expect(sampled.0.count == 3 && sampled.1.hasPrefix("Hello"))
    }
}
