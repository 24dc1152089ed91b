/// Rotary position embedding (RoPE) in Hugging Face's half-split layout, as one autograd node.

/// Rotates every head of `x` by angles that depend on the position: coordinates `i` and `i + D/2` of a
/// head form a pair, `y_i = x_i·cos_i − x_{i+D/2}·sin_i` and `y_{i+D/2} = x_{i+D/2}·cos_i + x_i·sin_i`.
///
/// This is `x·cos + rotate_half(x)·sin` of `transformers` (half-split, not interleaved). `x` is
/// `[B, T, H·D]` with the heads side by side in the last dimension, as the projections produce them, so
/// no permute copy is made. `cos` and `sin` are constant `[B or 1, T, D/2]` tables of
/// `position · inverse frequency` (times any attention scaling), shared by every head. The map is a
/// rotation scaled by the tables, so backward applies its transpose: the same tables with `sin` negated.
public func rotaryEmbedding(_ x: Tensor, cos: Tensor, sin: Tensor, heads: Int) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    precondition(
        x.rank == 3 && heads > 0 && x.shape[2] % heads == 0 && (x.shape[2] / heads) % 2 == 0,
        "rotaryEmbedding: \(x.shape) does not split into \(heads) heads of even size")
    let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
    let half = width / heads / 2
    precondition(
        cos.shape == sin.shape && cos.rank == 3 && (cos.shape[0] == 1 || cos.shape[0] == batch)
            && cos.shape[1] == length && cos.shape[2] == half,
        "rotaryEmbedding: tables \(cos.shape), \(sin.shape) do not fit \(x.shape) with \(heads) heads"
    )
    let tableBatchStride = cos.shape[0] == 1 ? 0 : length * half

    /// Rotates `source` into `target` by `sign · angle`.
    func rotate(
        _ source: UnsafeMutablePointer<Float>, into target: UnsafeMutablePointer<Float>,
        sign: Float
    ) {
        let (c, s) = (cos.storage.pointer, sin.storage.pointer)
        for b in 0..<batch {
            for t in 0..<length {
                let row = (b * length + t) * width
                let table = b * tableBatchStride + t * half
                for h in 0..<heads {
                    let first = row + h * 2 * half
                    for i in 0..<half {
                        let (lower, upper) = (source[first + i], source[first + half + i])
                        let (cosine, sine) = (c[table + i], sign * s[table + i])
                        target[first + i] = lower * cosine - upper * sine
                        target[first + half + i] = upper * cosine + lower * sine
                    }
                }
            }
        }
    }

    let output = Tensor.build(x.shape) { out in rotate(x.storage.pointer, into: out, sign: 1) }
    return .result(output, of: [x]) { gradient in
        [Tensor.build(x.shape) { dx in rotate(gradient.storage.pointer, into: dx, sign: -1) }]
    }
}
