import Dispatch
import PEFTTestSupport
import Synchronization
import Testing

@testable import PEFT

/// Models used from several threads at once, each thread with its own model, share only the
/// library's global state (the storage pool, the worker threads of large ops, BLAS); run under
/// ThreadSanitizer (`Scripts/sanitize.sh thread`) this shows that state is safe to share.
@Suite("Concurrent inference")
struct ConcurrentInferenceTests {
    /// A GPT-2 whose logits (`[1, 16, 4096]`, 256 KiB) are big enough for the storage pool and the
    /// parallel loops; odd seeds get a LoRA adapter with random weights.
    static func model(seed: UInt64) throws -> any CausalLanguageModel {
        let base = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 4096
                $0.maximumPositions = 48
                $0.embeddingSize = 32
                $0.layerCount = 2
                $0.headCount = 2
            }, seed: seed)
        base.eval()
        guard seed % 2 == 1 else { return base }
        let peft = try base.applyLoRA(rank: 4)
        randomizeAdapters(peft, seed: seed)
        return peft
    }

    static func generated(seed: UInt64) throws -> [Int] {
        var options = GenerationOptions(maximumNewTokens: 24)
        options.stopTokenIDs = []
        options.temperature = 0.8
        options.seed = seed
        let prompt = (0..<16).map { Int((UInt64($0) * 131 + seed * 17) % 4096) }
        return try model(seed: seed).generate(prompt: prompt, options: options)
    }

    @Test("Four models generating on four threads give their single-threaded tokens")
    func fourThreads() throws {
        let seeds: [UInt64] = [1, 2, 3, 4]
        let expected = try seeds.map { try Self.generated(seed: $0) }
        let results = Mutex<[Int: Result<[Int], any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: seeds.count) { index in
            let result = Result { try Self.generated(seed: seeds[index]) }
            results.withLock { $0[index] = result }
        }
        let concurrent = try results.withLock { results in
            try seeds.indices.map { try results[$0]!.get() }
        }
        #expect(concurrent == expected)
        #expect(Set(expected).count == seeds.count, "the models should differ")
    }
}
