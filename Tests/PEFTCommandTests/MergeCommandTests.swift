import Foundation
import PEFTModels
import PEFTSafeTensors
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("peft merge --combination")
struct MergeCommandTests {
    /// The logits `peft forward` prints for the first row of `parity`.
    func forwardLogits(model: String, adapter: String? = nil, _ parity: ParityCase) throws
        -> [Float]
    {
        let run = try PEFTProcess(
            [
                "forward", "--model", model, "--input-ids",
                parity.inputIDs[0].map(String.init).joined(separator: ","),
            ]
                + (adapter.map { ["--adapter", $0] } ?? []))
        #expect(run.status == 0, "\(run.standardError)")
        let object =
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        return (object["logits"] as! [[NSNumber]]).flatMap { $0.map(\.floatValue) }
    }

    @Test(
        "A TIES merge of two adapters writes a model with the logits PEFT gives the combined adapter",
        arguments: ["merge-gpt2", "merge-llama"])
    func tiesMerge(name: String) throws {
        let parity = try ParityFixture(name)
        let base = ParityFixture.folder(parity.object["base_model"] as! String).path
        let folder = ParityFixture.folder(name)
        let out = try temporaryFolder().appendingPathComponent("merged")
        let run = try PEFTProcess([
            "merge", "--model", base, "--combination", "ties", "--density", "0.5",
            "--adapter", "a=\(folder.appendingPathComponent("a").path)",
            "--adapter", "b=\(folder.appendingPathComponent("b").path)",
            "--weights", "0.9,0.6", "--out", out.path, "--safe", "--adapter-out",
            out.deletingLastPathComponent().appendingPathComponent("ties-adapter").path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("merged ties of a, b"))
        let results = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("merges.safetensors"))
        let expected = try results.floats("ties/logits")
        let printed = try forwardLogits(model: out.path, parity.cases[0])
        expectClose(printed, expected, tolerance: 1e-4)
        // The combined adapter, saved as PEFT saves one, gives the same logits on the base.
        let adapter = out.deletingLastPathComponent().appendingPathComponent("ties-adapter")
        let unmerged = try forwardLogits(model: base, adapter: adapter.path, parity.cases[0])
        expectClose(unmerged, expected, tolerance: 1e-4)
    }

    @Test("Bad merge options end in one line naming the option")
    func badOptions() throws {
        let folder = ParityFixture.folder("merge-gpt2")
        let base = ParityFixture.folder("gpt2-tiny").path
        let out = try temporaryFolder().appendingPathComponent("merged").path
        let a = "a=\(folder.appendingPathComponent("a").path)"
        let b = "b=\(folder.appendingPathComponent("b").path)"
        for (arguments, message) in [
            (["--adapter", a, "--adapter", b, "--weights", "1"], "--weights"),
            (["--adapter", a, "--adapter", b, "--weights", "1,x"], "--weights"),
            (["--adapter", a, "--adapter", b, "--combination", "dare_ties"], "--density"),
            (["--adapter", a, "--adapter", b, "--combination", "blend"], "--combination"),
            (["--adapter", a, "--adapter", a], "twice"),
            (["--adapter", a, "--adapter-out", out], "--adapter-out"),
            (["--adapter", a, "--adapter", b, "--svd-clamp", "1.5"], "--svd-clamp"),
        ] {
            let run = try PEFTProcess(["merge", "--model", base, "--out", out] + arguments)
            #expect(run.status != 0)
            #expect(run.standardError.contains(message), "\(arguments): \(run.standardError)")
        }
    }

    @Test("--dtype bf16 writes BF16 weights; --base-dtype nf4 merges into the dequantised base")
    func lowPrecisionMerges() throws {
        let parity = try ParityFixture("merge-gpt2")
        let base = ParityFixture.folder("gpt2-tiny").path
        let adapter = ParityFixture.folder("merge-gpt2").appendingPathComponent("a").path
        let root = try temporaryFolder()
        func merge(_ extra: [String], into name: String) throws -> (String, PEFTProcess) {
            let out = root.appendingPathComponent(name).path
            let run = try PEFTProcess(
                ["merge", "--model", base, "--adapter", adapter, "--out", out] + extra)
            #expect(run.status == 0, "\(extra): \(run.standardError)")
            return (out, run)
        }
        let (full, _) = try merge([], into: "fp32")
        let (half, _) = try merge(["--dtype", "bf16"], into: "bf16")
        let weights = try SafeTensorsFile(
            contentsOf: URL(fileURLWithPath: half).appendingPathComponent("model.safetensors"))
        let name = "transformer.h.0.attn.c_attn.weight"
        #expect(weights.info(name)?.dtype == .bfloat16)
        // Each BF16 value is the fp32 merge's value rounded to nearest even.
        let reference = try SafeTensorsFile(
            contentsOf: URL(fileURLWithPath: full).appendingPathComponent("model.safetensors"))
        #expect(
            try weights.floats(name)
                == (try reference.floats(name)).map {
                    BFloat16Bits.float(BFloat16Bits.rounding($0))
                })
        // A QLoRA-style adapter merges into the NF4 values it was trained over.
        let (quantized, run) = try merge(["--base-dtype", "nf4"], into: "nf4")
        #expect(run.standardError.contains("warning: merging into a nf4 base"))
        let unmerged = try PEFTProcess(
            [
                "forward", "--model", base, "--base-dtype", "nf4", "--adapter", adapter,
                "--input-ids", parity.cases[0].inputIDs[0].map(String.init).joined(separator: ","),
            ])
        #expect(unmerged.status == 0, "\(unmerged.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(unmerged.standardOutput.utf8))
        let expected = ((object as! [String: Any])["logits"] as! [[NSNumber]]).flatMap {
            $0.map(\.floatValue)
        }
        expectClose(try forwardLogits(model: quantized, parity.cases[0]), expected, tolerance: 1e-4)
        let refused = try PEFTProcess(
            [
                "merge", "--model", base, "--adapter", adapter, "--dtype", "nf4", "--out",
                root.appendingPathComponent("refused").path,
            ])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("--dtype nf4"), "\(refused.standardError)")
    }
}
