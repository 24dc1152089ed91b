import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Attention")
struct AttentionTests {
    /// Attention written with permutes and batched matmuls, the reference for the fused op.
    func reference(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, scale: Float, mask: Tensor?,
        bias: Tensor?, dropoutMask: Tensor? = nil
    )
        -> Tensor
    {
        let (batch, queries, width) = (q.shape[0], q.shape[1], q.shape[2])
        let split = { (t: Tensor) in
            t.reshaped(to: [batch, t.shape[1], heads, width / heads]).permuted([0, 2, 1, 3])
        }
        var scores = matmul(split(q), split(k), transposingRight: true) * scale
        if let bias { scores = scores + bias }
        if let mask { scores = scores + mask }
        var probabilities = softmax(scores)
        if let dropoutMask { probabilities = probabilities * dropoutMask }
        let output = matmul(probabilities, split(v))
        return output.permuted([0, 2, 1, 3]).reshaped(to: [batch, queries, width])
    }

    @Test("Fused attention equals the permute-and-matmul reference, with masks and bias")
    func matchesReference() {
        let q = randomTensor([2, 3, 8], seed: 1)
        let k = randomTensor([2, 5, 8], seed: 2)
        let v = randomTensor([2, 5, 8], seed: 3)
        let bias = randomTensor([1, 2, 3, 5], seed: 4)
        let mask =
            causalMask(queries: 3, keys: 5) + paddingMask([[1, 1, 1, 1, 1], [0, 1, 1, 1, 1]])
        expectClose(
            attention(query: q, key: k, value: v, heads: 2, scale: 0.5, mask: mask, bias: bias),
            reference(q, k, v, heads: 2, scale: 0.5, mask: mask, bias: bias), tolerance: 1e-5)
    }

    @Test("Attention gradients match finite differences for query, key, value and bias")
    func gradients() {
        let q = randomTensor([2, 3, 4], seed: 5)
        let k = randomTensor([2, 4, 4], seed: 6)
        let v = randomTensor([2, 4, 4], seed: 7)
        let bias = randomTensor([1, 2, 3, 4], seed: 8)
        let mask = causalMask(queries: 3, keys: 4)
        expectGradientsMatchFiniteDifferences([q, k, v, bias]) {
            attention(
                query: $0[0], key: $0[1], value: $0[2], heads: 2, scale: 0.7, mask: mask,
                bias: $0[3])
        }
    }

    @Test("Attention with frozen query and key computes only the value gradient")
    func valueOnlyGradient() {
        let q = randomTensor([1, 2, 4], seed: 9)
        let k = randomTensor([1, 2, 4], seed: 10)
        let v = randomTensor([1, 2, 4], seed: 11).requiringGradient()
        let loss = attention(query: q, key: k, value: v, heads: 2, scale: 1).sum()
        #expect(GEMMCounter.counting { loss.backward() } == 2)  // one dV product per head
        #expect(v.gradient != nil)
    }

    /// A `[B, H, Tq, Tk]` dropout mask drawn from `seed`.
    func fixedDropoutMask(_ shape: [Int], probability: Float, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return dropoutMask(shape, probability: probability, using: &generator)
    }

    @Test("Attention dropout multiplies the probabilities after the softmax by the mask")
    func dropoutMatchesReference() {
        let q = randomTensor([2, 3, 8], seed: 12)
        let k = randomTensor([2, 5, 8], seed: 13)
        let v = randomTensor([2, 5, 8], seed: 14)
        let mask = causalMask(queries: 3, keys: 5)
        let dropped = fixedDropoutMask([2, 2, 3, 5], probability: 0.4, seed: 15)
        #expect(dropped.scalars.contains(0) && dropped.scalars.contains(Float(1) / 0.6))
        let output = attention(
            query: q, key: k, value: v, heads: 2, scale: 0.5, mask: mask, dropoutMask: dropped)
        expectClose(
            output,
            reference(q, k, v, heads: 2, scale: 0.5, mask: mask, bias: nil, dropoutMask: dropped),
            tolerance: 1e-5)
        let undropped = attention(query: q, key: k, value: v, heads: 2, scale: 0.5, mask: mask)
        #expect(maxAbsoluteDifference(output, undropped) > 1e-2)
        // An all-ones mask is no dropout at all.
        let ones = Tensor.ones([2, 2, 3, 5])
        #expect(
            attention(
                query: q, key: k, value: v, heads: 2, scale: 0.5, mask: mask, dropoutMask: ones
            )
            .scalars == undropped.scalars)
    }

    @Test("Attention gradients with a fixed dropout mask match finite differences")
    func dropoutGradients() {
        let q = randomTensor([2, 3, 4], seed: 16)
        let k = randomTensor([2, 4, 4], seed: 17)
        let v = randomTensor([2, 4, 4], seed: 18)
        let bias = randomTensor([1, 2, 3, 4], seed: 19)
        let mask = causalMask(queries: 3, keys: 4)
        let dropped = fixedDropoutMask([2, 2, 3, 4], probability: 0.3, seed: 20)
        expectGradientsMatchFiniteDifferences([q, k, v, bias]) {
            attention(
                query: $0[0], key: $0[1], value: $0[2], heads: 2, scale: 0.7, mask: mask,
                bias: $0[3], dropoutMask: dropped)
        }
    }

    @Test("With dropout, frozen query and key still cost only the value gradient's products")
    func dropoutValueOnlyGradient() {
        let q = randomTensor([1, 2, 4], seed: 21)
        let k = randomTensor([1, 2, 4], seed: 22)
        let v = randomTensor([1, 2, 4], seed: 23).requiringGradient()
        let dropped = fixedDropoutMask([1, 2, 2, 2], probability: 0.5, seed: 24)
        let loss = attention(query: q, key: k, value: v, heads: 2, scale: 1, dropoutMask: dropped)
            .sum()
        #expect(GEMMCounter.counting { loss.backward() } == 2)  // one dV product per head
        #expect(v.gradient != nil)
    }

    @Test("Heads computed side by side (enough work to split) equal the reference, gradients too")
    func parallelHeadsMatchReference() {
        // 2 × 4 heads × 96 × 96 scores pass the parallel threshold, so each head runs as its own task.
        let (batch, length, width, heads) = (2, 96, 32, 4)
        let q = randomTensor([batch, length, width], seed: 25).requiringGradient()
        let k = randomTensor([batch, length, width], seed: 26).requiringGradient()
        let v = randomTensor([batch, length, width], seed: 27).requiringGradient()
        let bias = randomTensor([1, heads, length, length], seed: 28).requiringGradient()
        let mask = combineMasks(
            causalMask(queries: length, keys: length),
            paddingMask([
                Array(repeating: 1, count: length),
                [0, 0] + Array(repeating: 1, count: length - 2),
            ]))
        let dropped = fixedDropoutMask([batch, heads, length, length], probability: 0.2, seed: 29)
        let fused = attention(
            query: q, key: k, value: v, heads: heads, scale: 0.3, mask: mask, bias: bias,
            dropoutMask: dropped)
        let seed = randomTensor(fused.shape, seed: 30)
        let gemms = GEMMCounter.counting { (fused * seed).sum().backward() }
        #expect(gemms == batch * heads * 4)  // dV, dP, dQ, dK per head, counted from worker threads
        let fusedResults = [q, k, v, bias].map { $0.gradient! }
        for tensor in [q, k, v, bias] { tensor.zeroGradient() }
        let expected = reference(
            q, k, v, heads: heads, scale: 0.3, mask: mask, bias: bias, dropoutMask: dropped)
        expectClose(fused, expected, tolerance: 1e-5)
        (expected * seed).sum().backward()
        for (fusedGradient, tensor) in zip(fusedResults, [q, k, v, bias]) {
            expectClose(fusedGradient, tensor.gradient!, tolerance: 1e-4)
        }
    }
}
