import Foundation
import PEFTModels
import PEFTSafeTensors
import PEFTTestSupport
import Testing

@Suite("peft train --loraplus-ratio")
struct LoRAPlusCommandTests {
    @Test(
        "LoRA+ trains other weights than plain LoRA, and a resumed LoRA+ run matches an uninterrupted one"
    )
    func trainsAndResumes() throws {
        let root = try temporaryFolder()
        let common = [
            "train", "--config", "micro", "--task", "flip", "--method", "lora", "--steps", "4",
            "--batch-size", "2", "--eval-examples", "1", "--seed", "3", "--json",
        ]
        let loraPlus = common + ["--loraplus-ratio", "16"]
        let plain = try PEFTProcess(common + ["--out", root.appendingPathComponent("plain").path])
        #expect(plain.status == 0, "\(plain.standardError)")
        let straight = try PEFTProcess(
            loraPlus + ["--out", root.appendingPathComponent("straight").path])
        #expect(straight.status == 0, "\(straight.standardError)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(straight.standardOutput.utf8))
                as? [String: Any])
        #expect((summary["final_loss"] as? Double)?.isFinite == true)
        let interrupted = root.appendingPathComponent("interrupted").path
        let first = try PEFTProcess(loraPlus + ["--out", interrupted, "--stop-after", "2"])
        #expect(first.status == 0, "\(first.standardError)")
        let second = try PEFTProcess(loraPlus + ["--out", interrupted, "--resume", interrupted])
        #expect(second.status == 0, "\(second.standardError)")

        func weights(_ name: String) throws -> Data {
            try Data(
                contentsOf: root.appendingPathComponent("\(name)/adapter/adapter_model.safetensors")
            )
        }
        #expect(try weights("straight") == weights("interrupted"))
        #expect(try weights("straight") != weights("plain"))
    }

    @Test("--loraplus-ratio needs --method lora and finite, non-negative values")
    func badOptions() throws {
        let out = try temporaryFolder().appendingPathComponent("out").path
        let common = ["train", "--config", "micro", "--task", "flip", "--steps", "1", "--out", out]
        for (arguments, message) in [
            (["--method", "ia3", "--loraplus-ratio", "4"], "--loraplus-ratio needs --method lora"),
            (["--loraplus-ratio", "-2"], "--loraplus-ratio"),
            (
                ["--loraplus-ratio", "2", "--loraplus-weight-decay", "nan"],
                "--loraplus-weight-decay"
            ),
        ] {
            let run = try PEFTProcess(common + arguments)
            #expect(run.status != 0)
            #expect(run.standardError.contains(message), "\(arguments): \(run.standardError)")
        }
    }
}
