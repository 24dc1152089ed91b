import PEFTTensor

/// The keys and values one attention layer has already seen, for incremental decoding.
///
/// Self-attention appends each step's keys and values; cross-attention fills it once from the encoder
/// output and reuses it, so the encoder's projections run once per generation.
public final class KeyValueCacheLayer {
    /// `[B, T_past, H·D]`, or `nil` before the first step.
    public internal(set) var key: Tensor?
    /// `[B, T_past, H·D]`, or `nil` before the first step.
    public internal(set) var value: Tensor?

    /// Creates an empty cache layer.
    public init() {}

    /// The number of cached positions.
    public var length: Int { key?.shape[1] ?? 0 }
}

/// One ``KeyValueCacheLayer`` per attention layer of a model.
public final class KeyValueCache {
    /// The per-layer caches, in layer order.
    public let layers: [KeyValueCacheLayer]

    /// Creates an empty cache for `layerCount` attention layers.
    public init(layerCount: Int) {
        layers = (0..<layerCount).map { _ in KeyValueCacheLayer() }
    }

    /// The number of positions cached in the first layer.
    public var length: Int { layers.first?.length ?? 0 }
}

/// Learned keys and values prepended to an attention layer's own: what prefix tuning trains.
public struct AttentionPrefix {
    /// `[B or 1, P, H·D]`.
    public var key: Tensor
    /// `[B or 1, P, H·D]`.
    public var value: Tensor

    /// Creates a prefix from key and value tensors of equal shape.
    public init(key: Tensor, value: Tensor) {
        precondition(
            key.shape == value.shape && key.rank == 3,
            "AttentionPrefix: key \(key.shape), value \(value.shape)")
        self.key = key
        self.value = value
    }

    /// The number of prefix positions, P.
    public var length: Int { key.shape[1] }

    /// The prefix repeated over a batch of `batch` rows when it was given for one.
    func expanded(toBatch batch: Int) -> AttentionPrefix {
        guard key.shape[0] != batch else { return self }
        let shape = [batch, key.shape[1], key.shape[2]]
        return AttentionPrefix(key: key.expanded(to: shape), value: value.expanded(to: shape))
    }
}

/// Keys and values for one attention call: the prefix, the cache and the new positions, in that order.
///
/// Without a cache the prefix goes in front of the new keys; with one, the prefix enters the cache at the
/// first step and the cache is extended with the new keys at every step.
public func gatherKeysAndValues(
    key: Tensor, value: Tensor, prefix: AttentionPrefix?, cache: KeyValueCacheLayer?
) -> (key: Tensor, value: Tensor) {
    var parts: (keys: [Tensor], values: [Tensor]) = ([], [])
    if let cache, let cachedKey = cache.key, let cachedValue = cache.value {
        parts = ([cachedKey], [cachedValue])
    } else if let prefix = prefix?.expanded(toBatch: key.shape[0]) {
        parts = ([prefix.key], [prefix.value])
    }
    let keys = parts.keys.isEmpty ? key : concatenate(parts.keys + [key], alongAxis: 1)
    let values = parts.values.isEmpty ? value : concatenate(parts.values + [value], alongAxis: 1)
    if let cache {
        cache.key = keys
        cache.value = values
    }
    return (keys, values)
}
