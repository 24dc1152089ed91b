import Foundation
import Testing

@Suite("Example executables (smoke mode)")
struct ExampleSmokeTests {
    static let runs: [(String, String)] = [
        ("gpt-finetuning", "lora"), ("gpt-finetuning", "prefix"), ("gpt-finetuning", "selective"),
        ("t5-finetuning", "lora"), ("t5-finetuning", "ptuning"), ("t5-finetuning", "adapter"),
        ("gpt-finetuning", "loha"), ("t5-finetuning", "lokr"),
        ("gpt-finetuning", "adalora"), ("t5-finetuning", "adalora"),
    ]

    @Test("Each example trains, saves, reloads and summarises in smoke mode", arguments: runs)
    func smoke(executable: String, method: String) throws {
        let folder = try temporaryFolder()
        // LoRA's alpha is left to its default, twice the rank.
        let rank = method == "lora" ? ["--rank", "2"] : []
        let run = try PEFTProcess(
            [
                "--smoke", "--method", method, "--cache",
                folder.appendingPathComponent("base").path,
                "--out", folder.appendingPathComponent("out").path,
            ] + rank, executable: executable)
        #expect(run.status == 0, "\(executable) \(method): \(run.standardError)")
        #expect(run.standardOutput.contains("exact match after"))
        #expect(run.standardOutput.contains("identical generations"), "\(run.standardOutput)")
        #expect(
            FileManager.default.fileExists(
                atPath: folder.appendingPathComponent("out/loss_curve.svg").path))
        #expect(
            FileManager.default.fileExists(
                atPath: folder.appendingPathComponent("base/config.json").path))
        if method == "lora" {
            let configuration = try adapterConfiguration(folder.appendingPathComponent("out"))
            #expect(configuration["r"] as? Int == 2)
            #expect(configuration["lora_alpha"] as? Double == 4, "\(executable): \(configuration)")
        }
    }
}
