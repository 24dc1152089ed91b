import Foundation
import Testing

@Suite("peft train --pack")
struct PackCommandTests {
    /// A data file of short `{"text"}` lines of varied length.
    func textData(in root: URL) throws -> URL {
        let lines = (0..<40).map { index in
            ["text": String(repeating: "ab", count: 1 + index % 7) + " \(index)"]
        }
        let url = root.appendingPathComponent("train.jsonl")
        try TrainConfigurationTests.jsonLines(lines, in: url)
        return url
    }

    @Test("Packs the examples into fewer, fuller rows and trains; the YAML key works too")
    func packs() throws {
        let root = try temporaryFolder()
        let data = try textData(in: root)
        let common = [
            "train", "--random-model", "micro", "--data", data.path, "--steps", "3",
            "--batch-size", "2", "--max-length", "48", "--eval-examples", "0", "--json",
        ]
        let run = try PEFTProcess(
            common + ["--pack", "--out", root.appendingPathComponent("a").path])
        #expect(run.status == 0, "\(run.standardError)")
        let summary = try TrainCommandTests.summary(run)
        let rows = try #require(summary["packed_rows"] as? Int)
        #expect(rows > 0 && rows < 20)  // 40 examples of 4 to 17 tokens, rows of 48
        #expect((summary["packed_fill"] as? Double ?? 0) > 0.8)
        #expect(run.standardError.contains("--pack: 40 examples in \(rows) rows"))
        #expect((summary["final_loss"] as? Double)?.isFinite == true)
        // The same run from a configuration file.
        let file = root.appendingPathComponent("run.yaml")
        try TrainConfigurationTests.write("pack: true\n", to: file)
        let fromFile = try PEFTProcess(
            common + ["-c", file.path, "--out", root.appendingPathComponent("b").path])
        #expect(fromFile.status == 0, "\(fromFile.standardError)")
        #expect(try TrainCommandTests.summary(fromFile)["packed_rows"] as? Int == rows)
        // Switched off again on the command line: no packing.
        let unpacked = try PEFTProcess(
            common + ["-c", file.path, "--no-pack", "--out", root.appendingPathComponent("c").path])
        #expect(unpacked.status == 0, "\(unpacked.standardError)")
        #expect(try TrainCommandTests.summary(unpacked)["packed_rows"] == nil)
    }

    @Test("What cannot be packed is refused by name")
    func refusals() throws {
        let root = try temporaryFolder()
        let data = try textData(in: root)
        let common = [
            "train", "--random-model", "micro", "--data", data.path, "--steps", "1", "--pack",
            "--out", root.appendingPathComponent("o").path,
        ]
        for (extra, message) in [
            (["--method", "prompt"], "--method prompt puts virtual tokens before each row"),
            (["--method", "prefix"], "--method prefix puts virtual tokens before each row"),
            (["--group-by-length"], "drop --group-by-length"),
            (["--batch-size", "64"], "fewer than --batch-size 64"),
        ] {
            let run = try PEFTProcess(common + extra)
            #expect(run.status != 0, "\(extra)")
            #expect(run.standardError.contains(message), "\(extra): \(run.standardError)")
            #expect(!run.standardError.contains("Fatal error"), "\(extra)")
        }
    }
}
