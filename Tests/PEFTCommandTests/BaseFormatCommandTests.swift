import Foundation
import Testing

@Suite("peft train --base-dtype and --gradient-checkpointing")
struct BaseFormatCommandTests {
    func train(_ extra: [String], in root: URL, name: String) throws -> [String: Any] {
        let run = try PEFTProcess(
            [
                "train", "--random-model", "micro", "--task", "yell", "--steps", "40",
                "--eval-examples", "4", "--json", "--out", root.appendingPathComponent(name).path,
            ] + extra)
        #expect(run.status == 0, "\(extra): \(run.standardError)")
        return try TrainCommandTests.summary(run)
    }

    @Test("LoRA over a bf16, int8 or NF4 base tracks the fp32 run's loss within 5%, in less memory")
    func lowPrecisionTracksFP32() throws {
        let root = try temporaryFolder()
        let reference = try train(["--base-dtype", "fp32"], in: root, name: "fp32")
        let referenceLoss = try #require(reference["final_loss"] as? Double)
        let referenceWeights = try #require(reference["memory_weights_bytes"] as? Int)
        for format in ["bf16", "int8", "nf4"] {
            let summary = try train(["--base-dtype", format], in: root, name: format)
            let loss = try #require(summary["final_loss"] as? Double)
            #expect(abs(loss - referenceLoss) <= 0.05 * referenceLoss, "\(format): \(loss)")
            let weights = try #require(summary["memory_weights_bytes"] as? Int)
            #expect(weights < referenceWeights, "\(format)")
            // A merge into a low-precision base would round it for good: no merged speed.
            #expect(summary["merged_tokens_per_second"] is NSNull, "\(format)")
        }
    }

    @Test("Gradient checkpointing trains to the same loss, and reports memory by category")
    func checkpointingIsExact() throws {
        let root = try temporaryFolder()
        let plain = try train([], in: root, name: "plain")
        let replayed = try train(["--gradient-checkpointing"], in: root, name: "replayed")
        #expect(plain["final_loss"] as? Double == replayed["final_loss"] as? Double)
        for key in [
            "memory_weights_bytes", "memory_gradients_bytes", "memory_optimizer_state_bytes",
            "memory_activations_bytes", "memory_pooled_bytes", "memory_other_bytes",
        ] {
            #expect((replayed[key] as? Int).map { $0 >= 0 } == true, "\(key)")
        }
        #expect(
            (replayed["memory_gradients_bytes"] as? Int)
                == (replayed["trainable_parameters"] as? Int).map { $0 * 4 })
    }

    @Test("Combinations a low-precision base cannot train are refused by name")
    func refusals() throws {
        let root = try temporaryFolder()
        for (extra, message) in [
            (["--base-dtype", "nf4", "--method", "full"], "--base-dtype nf4: --method full"),
            (["--base-dtype", "bf16", "--method", "bitfit"], "--base-dtype bf16: --method bitfit"),
            (
                ["--base-dtype", "int8", "--method", "selective"],
                "--base-dtype int8: --method selective"
            ),
            (["--base-dtype", "fp8"], "--base-dtype"),
            (["--gradient-checkpointing", "--method", "prefix"], "--gradient-checkpointing"),
        ] {
            let run = try PEFTProcess(
                [
                    "train", "--random-model", "micro", "--task", "yell", "--steps", "1",
                    "--out", root.appendingPathComponent("o").path,
                ] + extra)
            #expect(run.status != 0, "\(extra)")
            #expect(run.standardError.contains(message), "\(extra): \(run.standardError)")
            #expect(!run.standardError.contains("Fatal error"), "\(extra)")
        }
    }
}
