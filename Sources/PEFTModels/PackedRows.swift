import PEFTTensor

/// What a decoder needs to keep the examples of packed rows apart: each token's position within its
/// own example, and an attention mask that hides every other example.
///
/// Packing puts several short examples into one row so that a batch carries fewer pad tokens. The
/// model then computes for each example exactly what it computes for that example alone: causal
/// attention restricted to the example's own tokens (a block-diagonal causal mask), and positions
/// counted from the example's first token, as Hugging Face's `position_ids` reset does.
struct PackedRows {
    /// `[B][T]` positions, restarting at 0 where a segment starts.
    let positions: [[Int]]
    /// The additive `[B, 1, T, T]` mask: 0 where query and key belong to the same segment,
    /// ``maskedScore`` elsewhere (the model's causal mask hides later keys of the same segment).
    let mask: Tensor

    /// The positions and mask of `segmentIDs`, checked against the inputs' `[B, T]` shape.
    init(segmentIDs: [[Int]], batch: Int, length: Int) {
        precondition(
            segmentIDs.count == batch && segmentIDs.allSatisfy { $0.count == length },
            "packed rows: segment ids are not [\(batch)][\(length)]")
        positions = segmentIDs.map { row in
            var position = 0
            return row.indices.map { index in
                if index > 0 && row[index] != row[index - 1] { position = 0 }
                defer { position += 1 }
                return position
            }
        }
        var scores = [Float](repeating: maskedScore, count: batch * length * length)
        for (b, row) in segmentIDs.enumerated() {
            for query in 0..<length {
                let base = (b * length + query) * length
                for key in 0..<length where row[key] == row[query] { scores[base + key] = 0 }
            }
        }
        mask = Tensor(shape: [batch, 1, length, length], scalars: scores)
    }

    /// Refuses what packing cannot be combined with: a cache or prefixes shift every position.
    static func check(_ inputs: DecoderInputs, model: String) {
        precondition(
            inputs.cache == nil && inputs.prefixes == nil,
            "\(model): packed rows (segment ids) cannot be combined with a key/value cache or prefixes"
        )
    }
}
