// SentencePiece's compiled normalization rules, as T5 and other converted models store them in
// `"precompiled_charsmap"`: a little-endian u32 trie size, a darts-clone double-array trie
// over UTF-8 keys, then the replacement strings, each ending in a zero byte.

import Foundation

/// The `Precompiled` normalizer: SentencePiece's character map, applied as HF applies it.
struct PrecompiledCharsmap: Sendable {
    let units: [UInt32]
    let replacements: [UInt8]

    init(base64: String, node: JSONNode) throws(TokenizerError) {
        guard let data = Data(base64Encoded: base64), data.count >= 4 else {
            throw node.mismatch("a base64 SentencePiece charsmap")
        }
        let bytes = [UInt8](data)
        let trieSize =
            Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard trieSize % 4 == 0, trieSize >= 4, 4 + trieSize <= bytes.count else {
            throw node.mismatch("a base64 SentencePiece charsmap")
        }
        units = stride(from: 4, to: 4 + trieSize, by: 4).map { offset in
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        replacements = Array(bytes[(4 + trieSize)...])
    }

    /// Applies the map to each grapheme cluster shorter than 6 bytes, and otherwise to each of its
    /// scalars, keeping what the map does not know. This is HF's (and SentencePiece's) order, odd
    /// as it is: a short cluster is replaced whole by the rule for its shortest mapped prefix.
    func normalize(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for cluster in text {
            let clusterBytes = Array(cluster.utf8)
            if clusterBytes.count < 6, let replacement = transform(clusterBytes[...]) {
                result.append(contentsOf: replacement)
                continue
            }
            for scalar in cluster.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                result.append(contentsOf: transform(scalarBytes[...]) ?? scalarBytes[...])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The replacement for the shortest prefix of `key` the trie holds, if any.
    func transform(_ key: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard let value = firstPrefixValue(key), value < replacements.count else { return nil }
        let start = value
        var end = start
        while end < replacements.count, replacements[end] != 0 { end += 1 }
        return replacements[start..<end]
    }

    /// darts-clone's common-prefix search, stopped at the first (shortest) hit.
    func firstPrefixValue(_ key: ArraySlice<UInt8>) -> Int? {
        func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }
        func label(_ unit: UInt32) -> UInt32 { unit & ((1 << 31) | 0xFF) }
        func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }

        var position = offset(units[0])
        for byte in key {
            if byte == 0 { return nil }
            position ^= Int(byte)
            guard position < units.count else { return nil }
            let unit = units[position]
            guard label(unit) == UInt32(byte) else { return nil }
            position ^= offset(unit)
            guard position < units.count else { return nil }
            if hasLeaf(unit) {
                return Int(units[position] & ((1 << 31) - 1))
            }
        }
        return nil
    }
}
