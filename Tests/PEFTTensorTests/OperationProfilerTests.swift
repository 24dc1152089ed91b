import Foundation
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Operation profiler", .serialized)
struct OperationProfilerTests {
    @Test(
        "A step's time is split by op kind, adds up to the wall time, and attention keeps its GEMMs"
    )
    func kindsAddUp() {
        let x = randomTensor([64, 96], seed: 1)
        let weight = randomTensor([96, 96], seed: 2).requiringGradient()
        let start = ContinuousClock.now
        OperationProfiler.start()
        let hidden = layerNorm(geluTanh(linear(x, weight: weight)), weight: nil, bias: nil)
        let mixed = attention(
            query: hidden.reshaped(to: [1, 64, 96]), key: hidden.reshaped(to: [1, 64, 96]),
            value: hidden.reshaped(to: [1, 64, 96]), heads: 4, scale: 0.2)
        crossEntropy(logits: mixed.reshaped(to: [64, 96]), targets: Array(0..<64)).backward()
        let profile = OperationProfiler.stop()
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        for kind in [
            OperationKind.gemm, .attention, .normalization, .elementwise, .crossEntropy, .autograd,
        ] {
            #expect((profile.seconds[kind] ?? 0) > 0, "no time charged to \(kind)")
        }
        #expect(profile.totalSeconds <= elapsed)
        #expect(profile.totalSeconds > 0.5 * elapsed)
        // Nothing is charged once stopped, and a second stop is empty.
        _ = linear(x, weight: weight)
        #expect(OperationProfiler.stop().seconds.isEmpty)
    }

    @Test("Attention's own GEMMs count as attention, not as gemm")
    func compositeKindsClaimTheirGEMMs() {
        let q = randomTensor([1, 32, 16], seed: 3)
        OperationProfiler.start()
        _ = attention(query: q, key: q, value: q, heads: 2, scale: 0.5)
        let profile = OperationProfiler.stop()
        #expect(profile.seconds[.gemm] == nil)
        #expect((profile.seconds[.attention] ?? 0) > 0)
    }

    @Test("Ops on another thread charge nothing to the recording thread's profile")
    func otherThreadsAreIgnored() {
        let x = randomTensor([32, 32], seed: 4)
        OperationProfiler.start()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = linear(x, weight: x)
            done.signal()
        }
        done.wait()
        let profile = OperationProfiler.stop()
        #expect(profile.seconds[.gemm] == nil)
    }
}
