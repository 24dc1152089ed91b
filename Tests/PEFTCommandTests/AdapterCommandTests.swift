import Foundation
import PEFTModels
import PEFTTestSupport
import Testing

@Suite("The peft command with adapters")
struct AdapterCommandTests {
    func logits(_ output: String) throws -> [Float] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        return (object["logits"] as! [[NSNumber]]).flatMap { $0.map(\.floatValue) }
    }

    @Test(
        "forward --adapter prints Python peft's logits; merge writes a model that prints the same")
    func forwardAndMerge() throws {
        let parity = try ParityFixture("lora-gpt2-attn-proj").cases[0]
        let ids = parity.inputIDs[0].map(String.init).joined(separator: ",")
        let model = ParityFixture.folder("gpt2-tiny").path
        let adapter = ParityFixture.folder("lora-gpt2-attn-proj").path
        let run = try PEFTProcess([
            "forward", "--model", model, "--adapter", adapter, "--input-ids", ids,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let count = parity.inputIDs[0].count * parity.logitsShape[2]
        let printed = try logits(run.standardOutput)
        expectClose(printed, Array(parity.logits.prefix(count)), tolerance: 1e-4)

        let merged = try temporaryFolder().appendingPathComponent("merged")
        let merge = try PEFTProcess([
            "merge", "--model", model, "--adapter", adapter, "--out", merged.path,
        ])
        #expect(merge.status == 0, "\(merge.standardError)")
        let mergedRun = try PEFTProcess(["forward", "--model", merged.path, "--input-ids", ids])
        expectClose(try logits(mergedRun.standardOutput), printed, tolerance: 1e-5)
    }

    @Test(
        "forward --adapter prints peft's logits for prompt-learning adapters, real positions only",
        arguments: [
            "prompt-tuning-gpt2", "prefix-tuning-gpt2-projection", "p-tuning-t5",
            "prefix-tuning-t5",
        ])
    func forwardPromptLearning(name: String) throws {
        let fixture = try ParityFixture(name)
        let parity = fixture.cases[0]
        var arguments = [
            "forward", "--model",
            ParityFixture.folder(fixture.object["base_model"] as! String).path,
            "--adapter", ParityFixture.folder(name).path,
            "--input-ids", parity.inputIDs[0].map(String.init).joined(separator: ","),
        ]
        if let decoder = parity.decoderInputIDs {
            arguments += [
                "--decoder-input-ids", decoder[0].map(String.init).joined(separator: ","),
            ]
        }
        let run = try PEFTProcess(arguments)
        #expect(run.status == 0, "\(run.standardError)")
        let positions = parity.logitsShape[1]
        let count = positions * parity.logitsShape[2]
        expectClose(
            try logits(run.standardOutput), Array(parity.logits.prefix(count)), tolerance: 1e-4)
    }

    @Test("inspect prints the method, configuration, tensors and size")
    func inspect() throws {
        let run = try PEFTProcess(["inspect", ParityFixture.folder("lora-gpt2-dora").path])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("method: LORA"))
        #expect(run.standardOutput.contains("use_dora: true"))
        #expect(
            run.standardOutput.contains(
                "base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector F32 [48]"))
        #expect(run.standardOutput.contains("parameters: "))
    }

    @Test("Broken adapter folders end in one line naming the file")
    func brokenAdapters() throws {
        let model = ParityFixture.folder("gpt2-tiny").path
        let empty = try temporaryFolder()
        let badJSON = try temporaryFolder()
        try Data("{\"peft_type\": \"LORA\", \"r\": \"eight\"}".utf8)
            .write(to: badJSON.appendingPathComponent("adapter_config.json"))
        let unknownType = try temporaryFolder()
        try Data("{\"peft_type\": \"FOURIERFT\"}".utf8).write(
            to: unknownType.appendingPathComponent("adapter_config.json"))
        let t5Adapter = ParityFixture.folder("lora-t5-v1_0-qv").path
        let cases: [([String], String)] = [
            (
                ["forward", "--model", model, "--adapter", empty.path, "--input-ids", "1"],
                "adapter_config.json"
            ),
            (["forward", "--model", model, "--adapter", badJSON.path, "--input-ids", "1"], "'r'"),
            (
                ["forward", "--model", model, "--adapter", unknownType.path, "--input-ids", "1"],
                "FOURIERFT"
            ),
            (
                ["forward", "--model", model, "--adapter", t5Adapter, "--input-ids", "1"],
                "matched no module"
            ),
            (["inspect", empty.path], "adapter_config.json"),
            (["merge", "--model", model, "--out", empty.path], "--adapter"),
        ]
        for (arguments, phrase) in cases {
            let run = try PEFTProcess(arguments)
            #expect(run.status != 0, "\(arguments) exited 0")
            #expect(run.standardError.contains(phrase), "\(arguments): \(run.standardError)")
            #expect(!run.standardError.contains("Fatal error"), "\(arguments) crashed")
        }
    }
}
