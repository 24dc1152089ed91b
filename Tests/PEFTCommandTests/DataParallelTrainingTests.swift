import Foundation
import PEFTModels
import Testing

/// Open MPI's launcher, when it is installed; `PEFT_REQUIRE_MPI=1` (set by `.ci/run`) turns its
/// absence into a failure instead of a skipped suite.
let mpirun: URL? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
    .first { FileManager.default.isExecutableFile(atPath: $0.path) }
let mpiRequired = ProcessInfo.processInfo.environment["PEFT_REQUIRE_MPI"] == "1"

@Suite("Data-parallel peft train under mpirun", .enabled(if: mpirun != nil || mpiRequired))
struct DataParallelTrainingTests {
    /// A small random GPT-2 for the byte tokenizer with every dropout off, so that the single
    /// process and the two ranks compute the same function.
    static func modelFolder() throws -> URL {
        let folder = try temporaryFolder()
        try byteGPT2Folder(folder, maximumPositions: 64, seed: 5)
        return folder
    }

    /// `peft train` in one process, or under `mpirun -np 2`.
    func train(_ arguments: [String], ranks: Int) throws -> PEFTProcess {
        guard ranks > 1 else { return try PEFTProcess(["train"] + arguments) }
        let launcher = try #require(mpirun, "Open MPI's mpirun is not installed (openmpi-bin)")
        return try PEFTProcess(
            [
                "-np", "\(ranks)", "--oversubscribe",
                // CI runs as root; containers lack the shared-memory single-copy mechanism.
                "--allow-run-as-root", "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=none",
                PEFTProcess.executable("peft").path, "train",
            ] + arguments, executableURL: launcher)
    }

    func logits(model: URL, adapter: URL?) throws -> [Float] {
        let run = try PEFTProcess(
            ["forward", "--model", model.path, "--input-ids", "99,111,112,121,58,32,97,98"]
                + (adapter.map { ["--adapter", $0.path] } ?? []))
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8))
        let rows = try #require((object as? [String: Any])?["logits"] as? [[NSNumber]])
        return rows.flatMap { $0.map(\.floatValue) }
    }

    @Test(
        "Two ranks train the adapter one process trains, to 1e-5 in the logits",
        arguments: ["lora", "prompt"])
    func equivalence(method: String) throws {
        let model = try Self.modelFolder()
        let out = try temporaryFolder()
        let common = [
            "--model", model.path, "--tokenizer", "byte", "--task", "copy", "--method", method,
            "--steps", "6", "--batch-size", "4", "--grad-accum", "2", "--eval-examples", "2",
            "--seed", "3", "--json",
        ]
        let single = try train(
            common + ["--out", out.appendingPathComponent("one").path], ranks: 1)
        #expect(single.status == 0, "\(single.standardError)")
        let parallel = try train(
            common + ["--out", out.appendingPathComponent("two").path], ranks: 2)
        #expect(parallel.status == 0, "\(parallel.standardError)")
        // Rank 0 alone prints the summary.
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(parallel.standardOutput.utf8))
                as? [String: Any], "\(parallel.standardOutput)")
        #expect(summary["world_size"] as? Int == 2)
        #expect((summary["all_reduced_floats_per_step"] as? Int ?? 0) > 0)
        let reference = try logits(model: model, adapter: out.appendingPathComponent("one/adapter"))
        let distributed = try logits(
            model: model, adapter: out.appendingPathComponent("two/adapter"))
        #expect(reference.count == distributed.count)
        let difference = zip(reference, distributed).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-5, "\(method): max logit difference \(difference)")
        // The adapter moved the logits, so agreeing is not agreeing on nothing.
        let base = try logits(model: model, adapter: nil)
        let shift = zip(reference, base).map { abs($0 - $1) }.max() ?? 0
        #expect(shift > 1e-3, "\(method): the adapter moved the logits by only \(shift)")
    }

    @Test("Resuming under mpirun reaches the uninterrupted run's adapter")
    func resume() throws {
        let model = try Self.modelFolder()
        let out = try temporaryFolder()
        let common = [
            "--model", model.path, "--tokenizer", "byte", "--task", "copy", "--method", "lora",
            "--steps", "6", "--batch-size", "4", "--eval-examples", "2", "--seed", "4",
        ]
        let whole = out.appendingPathComponent("whole").path
        let split = out.appendingPathComponent("split").path
        #expect(try train(common + ["--out", whole], ranks: 2).status == 0)
        let first = try train(common + ["--out", split, "--stop-after", "3"], ranks: 2)
        #expect(first.status == 0, "\(first.standardError)")
        let second = try train(common + ["--out", split, "--resume", split], ranks: 2)
        #expect(second.status == 0, "\(second.standardError)")
        let reference = try logits(model: model, adapter: URL(fileURLWithPath: whole + "/adapter"))
        let resumed = try logits(model: model, adapter: URL(fileURLWithPath: split + "/adapter"))
        #expect(reference == resumed)
    }

    @Test("A global batch the ranks cannot split is an error naming --batch-size, on every rank")
    func uneven() throws {
        let model = try Self.modelFolder()
        let run = try train(
            [
                "--model", model.path, "--tokenizer", "byte", "--task", "copy", "--steps", "2",
                "--batch-size", "3", "--out", try temporaryFolder().path,
            ], ranks: 2)
        #expect(run.status != 0)
        #expect(run.standardError.contains("--batch-size 3"), "\(run.standardError)")
        #expect(!run.standardError.contains("Fatal error"))
    }
}
