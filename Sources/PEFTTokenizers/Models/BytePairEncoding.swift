// The BPE model of HF `tokenizers`: a piece starts as one symbol per character, and the
// lowest-ranked adjacent pair is merged until no pair has a rank. Merges come off a heap, ties
// going to the leftmost pair, so a long piece costs O(n log n), as in HF's `Word::merge_all`.

import Foundation

/// A byte-pair-encoding model with a cache of the pieces it has already split.
final class BytePairEncoding: Sendable {
    struct Merge: Sendable {
        let rank: Int32
        let id: Int32
    }

    let vocabulary: Vocabulary
    let merges: [UInt64: Merge]
    let unknownID: Int?
    let fuseUnknown: Bool
    let byteFallbackIDs: [Int?]?
    let ignoreMerges: Bool
    private let cache = PieceCache()

    /// Builds the model; `merges` are token pairs in rank order.
    init(
        vocabulary: Vocabulary, merges: [(String, String)], unknownToken: String?,
        fuseUnknown: Bool, byteFallback: Bool, ignoreMerges: Bool, file: String
    ) throws(TokenizerError) {
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let leftID = vocabulary.id(for: left) else {
                throw .mergeOutOfVocabulary(file: file, merge: rank + 1, token: left)
            }
            guard let rightID = vocabulary.id(for: right) else {
                throw .mergeOutOfVocabulary(file: file, merge: rank + 1, token: right)
            }
            guard let mergedID = vocabulary.id(for: left + right) else {
                throw .mergeOutOfVocabulary(file: file, merge: rank + 1, token: left + right)
            }
            table[Self.key(leftID, rightID)] = Merge(rank: Int32(rank), id: Int32(mergedID))
        }
        self.vocabulary = vocabulary
        self.merges = table
        self.unknownID = unknownToken.flatMap(vocabulary.id(for:))
        self.fuseUnknown = fuseUnknown
        self.byteFallbackIDs = byteFallback ? vocabulary.byteFallbackIDs : nil
        self.ignoreMerges = ignoreMerges
    }

    private init(
        vocabulary: Vocabulary, merges: [UInt64: Merge], unknownID: Int?, fuseUnknown: Bool,
        byteFallback: Bool, ignoreMerges: Bool
    ) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.unknownID = unknownID
        self.fuseUnknown = fuseUnknown
        self.byteFallbackIDs = byteFallback ? vocabulary.byteFallbackIDs : nil
        self.ignoreMerges = ignoreMerges
    }

    /// The same vocabulary and merges with other options, as `transformers` builds them when a
    /// tokenizer class fixes its own (`LlamaTokenizer`: no unknown token, fused, byte fallback).
    func reconfigured(
        unknownID: Int?, fuseUnknown: Bool, byteFallback: Bool, ignoreMerges: Bool
    ) -> BytePairEncoding {
        BytePairEncoding(
            vocabulary: vocabulary, merges: merges, unknownID: unknownID, fuseUnknown: fuseUnknown,
            byteFallback: byteFallback, ignoreMerges: ignoreMerges)
    }

    static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// Returns the ids of one pre-tokenized piece.
    func tokenize(_ piece: String) -> [Int] {
        let key = Array(piece.utf8)
        if let hit = cache[key] { return hit }
        let ids: [Int]
        if ignoreMerges, let id = vocabulary.id(forBytes: key) {
            ids = [id]
        } else {
            ids = mergeAll(initialSymbols(piece))
        }
        cache[key] = ids
        return ids
    }

    /// One symbol per character; unknown characters become byte tokens or the unknown token,
    /// runs of unknowns fused into one when the model says so.
    func initialSymbols(_ piece: String) -> [Int] {
        var symbols: [Int] = []
        var pendingUnknown = false
        for scalar in piece.unicodeScalars {
            if let id = vocabulary.id(forBytes: String(scalar).utf8) {
                if pendingUnknown, let unknownID { symbols.append(unknownID) }
                pendingUnknown = false
                symbols.append(id)
                continue
            }
            // Like HF, byte tokens do not flush a pending unknown token.
            if let byteFallbackIDs {
                let bytes = String(scalar).utf8.map { byteFallbackIDs[Int($0)] }
                if bytes.allSatisfy({ $0 != nil }) {
                    symbols.append(contentsOf: bytes.compactMap { $0 })
                    continue
                }
            }
            guard let unknownID else { continue }
            if pendingUnknown, !fuseUnknown { symbols.append(unknownID) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return symbols
    }

    /// Applies the merges to `symbols`, lowest rank first, leftmost first among equal ranks.
    func mergeAll(_ symbols: [Int]) -> [Int] {
        guard symbols.count > 1 else { return symbols }
        var ids = symbols
        var previous = Array(-1..<(symbols.count - 1))
        var next = Array(1...symbols.count)
        next[symbols.count - 1] = -1
        var alive = [Bool](repeating: true, count: symbols.count)
        var queue = MergeQueue()
        for position in 0..<(symbols.count - 1) {
            if let merge = merges[Self.key(ids[position], ids[position + 1])] {
                queue.push(rank: merge.rank, position: Int32(position), id: merge.id)
            }
        }
        while let top = queue.pop() {
            let position = Int(top.position)
            guard alive[position], next[position] != -1 else { continue }
            let right = next[position]
            guard let merge = merges[Self.key(ids[position], ids[right])], merge.id == top.id else {
                continue
            }
            ids[position] = Int(top.id)
            alive[right] = false
            next[position] = next[right]
            if next[right] != -1 { previous[next[right]] = position }
            let left = previous[position]
            if left != -1, let merge = merges[Self.key(ids[left], ids[position])] {
                queue.push(rank: merge.rank, position: Int32(left), id: merge.id)
            }
            let following = next[position]
            if following != -1, let merge = merges[Self.key(ids[position], ids[following])] {
                queue.push(rank: merge.rank, position: Int32(position), id: merge.id)
            }
        }
        return ids.indices.compactMap { alive[$0] ? ids[$0] : nil }
    }
}

/// A binary min-heap of candidate merges ordered by rank, then position.
struct MergeQueue {
    struct Entry {
        let rank: Int32
        let position: Int32
        let id: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var entries: [Entry] = []

    mutating func push(rank: Int32, position: Int32, id: Int32) {
        entries.append(Entry(rank: rank, position: position, id: id))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].precedes(entries[smallest]) { smallest = left }
            if right < entries.count, entries[right].precedes(entries[smallest]) {
                smallest = right
            }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

/// A thread-safe map from a piece's UTF-8 bytes to its ids, emptied when it grows too large.
final class PieceCache: @unchecked Sendable {
    private var entries: [[UInt8]: [Int]] = [:]
    private let lock = NSLock()
    private let capacity = 50_000

    subscript(key: [UInt8]) -> [Int]? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return entries[key]
        }
        set {
            guard key.count <= 256 else { return }
            lock.lock()
            defer { lock.unlock() }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = newValue
        }
    }
}
