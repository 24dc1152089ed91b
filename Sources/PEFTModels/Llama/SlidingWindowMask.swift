import PEFTTensor

/// An additive causal mask `[queries, keys]` that also hides keys more than `window − 1` positions back:
/// query `i` (at absolute position `i + keys − queries`) sees key `j` iff `i' − window < j ≤ i'`, which
/// is `transformers`' sliding-window mask (the query and the `window − 1` keys before it).
func causalMask(queries: Int, keys: Int, window: Int?) -> Tensor {
    guard let window else { return causalMask(queries: queries, keys: keys) }
    let offset = keys - queries
    var scores = [Float](repeating: maskedScore, count: queries * keys)
    for i in 0..<queries {
        let position = i + offset
        for j in max(position - window + 1, 0)...position where j < keys {
            scores[i * keys + j] = 0
        }
    }
    return Tensor(shape: [queries, keys], scalars: scores)
}
