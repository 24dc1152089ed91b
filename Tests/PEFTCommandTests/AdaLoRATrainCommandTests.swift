import Foundation
import PEFTSafeTensors
import PEFTTestSupport
import Testing

@Suite("peft train --method adalora")
struct AdaLoRATrainCommandTests {
    @Test("Allocates ranks over --steps and saves the cut adapter with its rank pattern")
    func allocatesAndSaves() throws {
        let root = try temporaryFolder()
        let out = root.appendingPathComponent("adalora")
        let run = try PEFTProcess([
            "train", "--config", "micro", "--task", "flip", "--method", "adalora", "--steps", "10",
            "--batch-size", "2", "--rank", "6", "--eval-examples", "1", "--seed", "3", "--json",
            "--out", out.path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let adapter = out.appendingPathComponent("adapter")
        let configuration = try adapterConfiguration(adapter)
        #expect(configuration["peft_type"] as? String == "ADALORA")
        // --rank is init_r, two thirds of it target_r; the schedule spans --steps.
        #expect(configuration["init_r"] as? Int == 6 && configuration["target_r"] as? Int == 4)
        #expect(configuration["total_step"] as? Int == 10)
        #expect(configuration["tinit"] as? Int == 1 && configuration["tfinal"] as? Int == 2)
        let pattern = try #require(configuration["rank_pattern"] as? [String: [Bool]])
        #expect(!pattern.isEmpty && pattern.values.allSatisfy { $0.count == 6 })
        let kept = pattern.values.reduce(0) { $0 + $1.filter { $0 }.count }
        #expect(kept < 6 * pattern.count, "nothing was cut: \(pattern)")
        let file = try SafeTensorsFile(
            contentsOf: adapter.appendingPathComponent("adapter_model.safetensors"))
        for (key, mask) in pattern {
            let stem = "base_model.model." + key.dropLast("lora_E".count)
            #expect(file.info(stem + "lora_A")?.shape.first == mask.filter { $0 }.count, "\(key)")
        }
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        #expect(summary["method"] as? String == "adalora" && summary["steps"] as? Int == 10)
    }
}
