/// Attention masks: causal structure, padding, and masked fills.

/// The additive value that removes a position from a softmax: large enough that `exp` underflows to
/// exactly zero, finite so that a fully masked row stays a (uniform) distribution instead of NaN.
public let maskedScore: Float = -1e9

/// An additive causal mask `[queries, keys]`: 0 where key `j ≤ i + (keys − queries)`, `maskedScore`
/// elsewhere. With a key/value cache or a prefix the keys run ahead of the queries by that offset.
public func causalMask(queries: Int, keys: Int) -> Tensor {
    let offset = keys - queries
    return Tensor.build([queries, keys]) { out in
        for i in 0..<queries {
            for j in 0..<keys { out[i * keys + j] = j <= i + offset ? 0 : maskedScore }
        }
    }
}

/// An additive padding mask `[B, 1, 1, T]` from a `[B, T]` mask of ones (attend) and zeros (padding).
public func paddingMask(_ attentionMask: [[Int]]) -> Tensor {
    let batch = attentionMask.count
    let length = attentionMask.first?.count ?? 0
    precondition(
        attentionMask.allSatisfy { $0.count == length }, "paddingMask: rows of unequal length")
    return Tensor(
        shape: [batch, 1, 1, length],
        scalars: attentionMask.flatMap { $0.map { $0 == 0 ? maskedScore : 0 } })
}

/// Replaces the elements of `x` where `mask` is nonzero with `value`; `mask` broadcasts to `x`.
///
/// The gradient flows only through the elements that were kept.
public func maskedFill(_ x: Tensor, mask: Tensor, value: Float) -> Tensor {
    let output = broadcastBinary(x, mask, op: "maskedFill") { element, flag in
        flag != 0 ? value : element
    }
    precondition(
        output.shape == x.shape, "maskedFill: mask \(mask.shape) does not broadcast to \(x.shape)")
    return .result(output, of: [x]) { g in
        [
            broadcastBinary(g, mask, op: "maskedFill backward") { gradient, flag in
                flag != 0 ? 0 : gradient
            }
        ]
    }
}

/// Combines two additive masks so that a position masked by either is masked once: the elementwise
/// minimum, broadcasting. A row masked everywhere then holds one value and attends uniformly, exactly
/// as PyTorch's minimum-value masks make it.
public func combineMasks(_ first: Tensor, _ second: Tensor) -> Tensor {
    withoutGradients { broadcastBinary(first, second, op: "combineMasks") { Swift.min($0, $1) } }
}
