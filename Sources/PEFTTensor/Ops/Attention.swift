/// Multi-head scaled dot-product attention as one autograd node.

/// Computes `softmax(scale·Q·Kᵀ + bias + mask)·V` for every batch row and head.
///
/// `query` is `[B, Tq, H·D]` and `key`, `value` are `[B, Tk, H·D]`, heads interleaved in the last
/// dimension exactly as the projections produce them: each head is reached through a pointer offset and a
/// leading dimension of `H·D`, so no permute copy is ever made. `mask` is a constant additive mask that
/// broadcasts to `[B, H, Tq, Tk]` (a causal `[Tq, Tk]`, a padding `[B, 1, 1, Tk]`); `bias` is a
/// differentiable additive bias of the same kind (T5's relative positions, `[1, H, Tq, Tk]`). The result
/// is `[B, Tq, H·D]`. Backward saves only the attention probabilities (and the dropout mask, if any) and
/// skips the gradient of every input that needs none.
///
/// `dropoutMask`, when given, is a constant `[B, H, Tq, Tk]` factor on the probabilities after the
/// softmax (attention dropout: 0 for a dropped weight, `1/(1 − p)` for a kept one, from
/// ``dropoutMask(_:probability:using:)``), so the result is `(M ⊙ softmax(...))·V`. Without it the op
/// makes no extra pass.
public func attention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, scale: Float, mask: Tensor? = nil,
    bias: Tensor? = nil, dropoutMask: Tensor? = nil
) -> Tensor {
    attention(
        query: query, key: key, value: value, heads: heads, keyValueHeads: heads, scale: scale,
        mask: mask, bias: bias, dropoutMask: dropoutMask)
}

/// ``attention(query:key:value:heads:scale:mask:bias:dropoutMask:)`` with grouped-query attention:
/// `key` and `value` are `[B, Tk, K·D]` with `K = keyValueHeads` heads, each shared by `H / K`
/// consecutive query heads, read in place (no repeated copy of the keys and values).
///
/// Each (batch row, key/value head) is one task, run side by side on the cores with single-threaded
/// GEMMs: for each of its query heads the scores, bias and mask, softmax and the product with `V`
/// while the head's `[Tq, Tk]` scores are still in cache. Backward sums the query heads' key and
/// value gradients within the task, so no two tasks write the same values.
public func attention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, keyValueHeads: Int, scale: Float,
    mask: Tensor? = nil, bias: Tensor? = nil, dropoutMask: Tensor? = nil
) -> Tensor {
    let region = OperationProfiler.enter(.attention)
    defer { region.end() }
    precondition(
        query.rank == 3 && key.rank == 3 && key.shape == value.shape
            && query.shape[0] == key.shape[0] && heads > 0 && keyValueHeads > 0
            && heads % keyValueHeads == 0 && query.shape[2] % heads == 0
            && key.shape[2] * heads == query.shape[2] * keyValueHeads,
        "attention: query \(query.shape), key \(key.shape), value \(value.shape) do not fit \(heads) query and \(keyValueHeads) key/value heads"
    )
    let (batch, queries, width) = (query.shape[0], query.shape[1], query.shape[2])
    let (keys, keyWidth) = (key.shape[1], key.shape[2])
    let headSize = width / heads
    let groups = heads / keyValueHeads
    let scoresShape = [batch, heads, queries, keys]
    precondition(
        dropoutMask == nil || dropoutMask!.shape == scoresShape,
        "attention: dropout mask \(dropoutMask!.shape) is not \(scoresShape)")
    let maskRows = mask.map { AdditiveScoreRows($0, scoresShape: scoresShape, op: "mask") }
    let biasRows = bias.map { AdditiveScoreRows($0, scoresShape: scoresShape, op: "bias") }
    let (q, k, v) = (query.storage.pointer, key.storage.pointer, value.storage.pointer)
    let headScores = queries * keys
    /// Query head `group` of task `task` = (b, key/value head): its batch row and head, and its
    /// offsets in the query, key/value and score buffers.
    func head(_ task: Int, _ group: Int) -> (
        batch: Int, head: Int, query: Int, key: Int, scores: Int
    ) {
        let (b, shared) = task.quotientAndRemainder(dividingBy: keyValueHeads)
        let h = shared * groups + group
        return (
            b, h, b * queries * width + h * headSize, b * keys * keyWidth + shared * headSize,
            (b * heads + h) * headScores
        )
    }
    let tasks = batch * keyValueHeads

    let probabilities = Tensor.build(scoresShape) { _ in }
    let output = Tensor.build([batch, queries, width]) { o in
        let p = probabilities.storage.pointer
        forEachHead(tasks, scoresPerHead: groups * headScores) { task in
            for group in 0..<groups {
                let at = head(task, group)
                let scores = p + at.scores
                BLAS.gemmOnThisThread(
                    transposeA: false, transposeB: true, m: queries, n: keys, k: headSize,
                    alpha: scale, a: q + at.query, lda: width, b: k + at.key, ldb: keyWidth,
                    c: scores, ldc: keys)
                for row in 0..<queries {
                    let values = scores + row * keys
                    biasRows?.add(to: values, count: keys, batch: at.batch, head: at.head, row: row)
                    maskRows?.add(to: values, count: keys, batch: at.batch, head: at.head, row: row)
                    softmaxRow(values, values, count: keys)
                }
                // The dropped probabilities live only for this product; backward rebuilds them for
                // dV, which saves a [B, H, Tq, Tk] buffer per layer between the passes.
                withKeptProbabilities(scores, dropoutMask, at.scores, count: headScores) { kept in
                    BLAS.gemmOnThisThread(
                        transposeA: false, transposeB: false, m: queries, n: headSize, k: keys,
                        a: kept, lda: keys, b: v + at.key, ldb: keyWidth, c: o + at.query,
                        ldc: width)
                }
            }
        }
    }
    return .result(output, of: [query, key, value, bias]) { gradient in
        // Pointers are taken again here so the closure keeps the tensors, and their storage, alive.
        let (q, k, v) = (query.storage.pointer, key.storage.pointer, value.storage.pointer)
        let p = probabilities.storage.pointer
        let m = dropoutMask?.storage.pointer
        let dO = gradient.storage.pointer
        let needsScores =
            query.requiresGradient || key.requiresGradient || bias?.requiresGradient == true
        func uninitialised(_ tensor: Tensor) -> Tensor? {
            tensor.requiresGradient ? Tensor.build(tensor.shape) { _ in } : nil
        }
        let (queryGradient, keyGradient, valueGradient) = (
            uninitialised(query), uninitialised(key), uninitialised(value)
        )
        // The score gradient outlives a head only when the bias needs it.
        let scoreGradient: Tensor? =
            bias?.requiresGradient == true ? Tensor.build(scoresShape) { _ in } : nil
        forEachHead(tasks, scoresPerHead: groups * headScores) { task in
            let scratch =
                needsScores && scoreGradient == nil
                ? UnsafeMutablePointer<Float>.allocate(capacity: headScores) : nil
            defer { scratch?.deallocate() }
            for group in 0..<groups {
                let at = head(task, group)
                // The group's query heads add into their shared key/value head's gradients.
                let accumulate: Float = group == 0 ? 0 : 1
                let probabilities = UnsafePointer(p + at.scores)
                if let valueGradient {
                    // dV += (M ⊙ P)ᵀ·dO
                    withKeptProbabilities(p + at.scores, dropoutMask, at.scores, count: headScores)
                    {
                        kept in
                        BLAS.gemmOnThisThread(
                            transposeA: true, transposeB: false, m: keys, n: headSize, k: queries,
                            a: kept, lda: keys, b: dO + at.query, ldb: width, beta: accumulate,
                            c: valueGradient.storage.pointer + at.key, ldc: keyWidth)
                    }
                }
                guard needsScores else { continue }
                let dS = scratch ?? scoreGradient!.storage.pointer + at.scores
                // dS = P ⊙ (dP − Σ_j dP ⊙ P), with dP = M ⊙ (dO·Vᵀ) (dP = dO·Vᵀ without dropout).
                BLAS.gemmOnThisThread(
                    transposeA: false, transposeB: true, m: queries, n: keys, k: headSize,
                    a: dO + at.query, lda: width, b: v + at.key, ldb: keyWidth, c: dS, ldc: keys)
                for row in 0..<queries {
                    let (values, weights) = (dS + row * keys, probabilities + row * keys)
                    if let m {
                        let factors = m + at.scores + row * keys
                        for j in 0..<keys { values[j] *= factors[j] }
                    }
                    let dot = vectorDot(UnsafePointer(values), weights, count: keys)
                    for j in 0..<keys { values[j] = weights[j] * (values[j] - dot) }
                }
                if let queryGradient {
                    // dQ = scale·dS·K
                    BLAS.gemmOnThisThread(
                        transposeA: false, transposeB: false, m: queries, n: headSize, k: keys,
                        alpha: scale, a: dS, lda: keys, b: k + at.key, ldb: keyWidth,
                        c: queryGradient.storage.pointer + at.query, ldc: width)
                }
                if let keyGradient {
                    // dK += scale·dSᵀ·Q
                    BLAS.gemmOnThisThread(
                        transposeA: true, transposeB: false, m: keys, n: headSize, k: queries,
                        alpha: scale, a: dS, lda: keys, b: q + at.query, ldb: width,
                        beta: accumulate, c: keyGradient.storage.pointer + at.key, ldc: keyWidth)
                }
            }
        }
        let biasGradient = scoreGradient.map { $0.summed(toShape: bias!.shape) }
        return [queryGradient, keyGradient, valueGradient, biasGradient]
    }
}

/// Runs `body` for each of `count` attention heads, in parallel when there is enough work: each
/// head's GEMMs then run on one thread, the heads side by side, instead of splitting every small
/// product across the cores. Heads write disjoint parts of the outputs.
private func forEachHead(_ count: Int, scoresPerHead: Int, _ body: (Int) -> Void) {
    let parallel =
        count > 1 && ParallelLoops.processorCount > 1
        && count * scoresPerHead >= ParallelLoops.minimumParallelElements
    guard parallel else {
        for task in 0..<count { body(task) }
        return
    }
    let counter = GEMMCounter.current
    ParallelLoops.forEachTask(count: count) { task in
        GEMMCounter.forwarding(counter) { body(task) }
    }
}

/// Hands `body` one head's probabilities, times the dropout factors when there are any (in a
/// scratch buffer that lives for the call).
private func withKeptProbabilities(
    _ probabilities: UnsafeMutablePointer<Float>, _ dropoutMask: Tensor?, _ offset: Int, count: Int,
    _ body: (UnsafePointer<Float>) -> Void
) {
    guard let dropoutMask else { return body(UnsafePointer(probabilities)) }
    let factors = dropoutMask.storage.pointer + offset
    let kept = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { kept.deallocate() }
    for index in 0..<count { kept[index] = probabilities[index] * factors[index] }
    body(UnsafePointer(kept))
}

/// An additive mask or bias as seen from the `[B, H, Tq, Tk]` scores it broadcasts to: a pointer and
/// strides, so a head's row adds it in place without a materialised copy.
/// The tensor must outlive the rows (the op holds it).
private struct AdditiveScoreRows {
    let values: UnsafePointer<Float>
    let strides: (batch: Int, head: Int, row: Int, key: Int)

    init(_ tensor: Tensor, scoresShape: [Int], op: String) {
        precondition(
            tensor.rank <= 4
                && broadcastShape(tensor.shape, scoresShape, op: "attention") == scoresShape,
            "attention: \(op) \(tensor.shape) does not broadcast to the scores \(scoresShape)")
        values = UnsafePointer(tensor.storage.pointer)
        let strides = broadcastStrides(of: tensor.shape, in: scoresShape)
        self.strides = (strides[0], strides[1], strides[2], strides[3])
    }

    /// `values[j] += term[b, h, row, j]` for one row of `count` keys.
    @inline(__always)
    func add(to values: UnsafeMutablePointer<Float>, count: Int, batch: Int, head: Int, row: Int) {
        let base =
            self.values + batch * strides.batch + head * strides.head + row * strides.row
        if strides.key == 0 {
            let term = base[0]
            for j in 0..<count { values[j] += term }
        } else {
            for j in 0..<count { values[j] += base[j] }
        }
    }
}
