import Foundation
import PEFTSafeTensors
import Testing

@Suite("peft train --method loha / lokr")
struct LyCORISTrainCommandTests {
    @Test(
        "The run saves a PEFT-format adapter with --rank and --alpha, and a resumed run matches a straight one",
        arguments: [("loha", "LOHA", "hada_w2_b"), ("lokr", "LOKR", "lokr_w1")])
    func train(method: String, peftType: String, tensor: String) throws {
        let root = try temporaryFolder()
        let common = [
            "train", "--config", "micro", "--task", "flip", "--method", method, "--steps", "4",
            "--batch-size", "2", "--eval-examples", "1", "--seed", "5", "--rank", "2", "--alpha",
            "3",
        ]
        let straight = try PEFTProcess(
            common + ["--out", root.appendingPathComponent("straight").path])
        #expect(straight.status == 0, "\(straight.standardError)")
        let interrupted = root.appendingPathComponent("interrupted").path
        let first = try PEFTProcess(common + ["--out", interrupted, "--stop-after", "2"])
        #expect(first.status == 0, "\(first.standardError)")
        let second = try PEFTProcess(common + ["--out", interrupted, "--resume", interrupted])
        #expect(second.status == 0, "\(second.standardError)")

        let adapter = root.appendingPathComponent("straight/adapter")
        let configuration = try adapterConfiguration(adapter)
        #expect(configuration["peft_type"] as? String == peftType)
        #expect(configuration["r"] as? Int == 2 && configuration["alpha"] as? Double == 3)
        #expect(configuration["target_modules"] as? [String] == ["c_attn"])
        let weights = try SafeTensorsFile(
            contentsOf: adapter.appendingPathComponent("adapter_model.safetensors"))
        #expect(
            weights.tensorNames.contains("base_model.model.transformer.h.0.attn.c_attn.\(tensor)"),
            "\(weights.tensorNames)")
        let a = try Data(contentsOf: adapter.appendingPathComponent("adapter_model.safetensors"))
        let b = try Data(
            contentsOf: root.appendingPathComponent(
                "interrupted/adapter/adapter_model.safetensors"))
        #expect(a == b, "\(method): resumed weights differ")
    }
}
