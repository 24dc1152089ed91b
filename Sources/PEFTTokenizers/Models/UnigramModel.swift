// The Unigram model of HF `tokenizers` (SentencePiece's): the segmentation of a piece that
// maximizes the sum of the token scores, found by Viterbi over UTF-8 byte positions.

/// A Unigram language model over a scored vocabulary.
struct UnigramModel: Sendable {
    let vocabulary: Vocabulary
    let scores: [Double]
    let trie: ByteTrie
    let unknownID: Int?
    let unknownScore: Double
    let byteFallbackIDs: [Int?]?

    /// SentencePiece's penalty that keeps an unknown character the choice of last resort.
    static let unknownPenalty = 10.0

    /// Builds the model from `pieces` (token, score) in id order.
    init(pieces: [(String, Double)], unknownID: Int?, byteFallback: Bool) {
        var vocabulary = Vocabulary()
        var trie = ByteTrie()
        var minimum = Double.infinity
        for (id, (token, score)) in pieces.enumerated() {
            vocabulary.insert(token, id: id)
            trie.insert(Array(token.utf8), id: id)
            minimum = min(minimum, score)
        }
        self.vocabulary = vocabulary
        self.scores = pieces.map(\.1)
        self.trie = trie
        self.unknownID = unknownID
        self.unknownScore = minimum - Self.unknownPenalty
        self.byteFallbackIDs = byteFallback ? vocabulary.byteFallbackIDs : nil
    }

    /// Returns the ids of one pre-tokenized piece.
    func tokenize(_ piece: String) -> [Int] {
        let bytes = Array(piece.utf8)
        var ids: [Int] = []
        for range in bestSegmentation(bytes) {
            let slice = bytes[range]
            if let id = vocabulary.id(forBytes: slice) {
                ids.append(id)
            } else if let byteFallbackIDs, slice.allSatisfy({ byteFallbackIDs[Int($0)] != nil }) {
                ids.append(contentsOf: slice.map { byteFallbackIDs[Int($0)]! })
            } else if let unknownID {
                ids.append(unknownID)
            }
        }
        return ids
    }

    /// The byte ranges of the best path, with runs of unknown characters fused into one range.
    func bestSegmentation(_ bytes: [UInt8]) -> [Range<Int>] {
        struct Node {
            var score = 0.0
            var start = -1
            var id = -1
        }
        guard !bytes.isEmpty else { return [] }
        var best = [Node](repeating: Node(), count: bytes.count + 1)
        var start = 0
        while start < bytes.count {
            let scoreHere = best[start].score
            let characterLength = utf8Length(leadingByte: bytes[start])
            var hasSingleCharacter = false
            trie.forEachPrefix(of: bytes, from: start) { length, id in
                let end = start + length
                let candidate = scores[id] + scoreHere
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(score: candidate, start: start, id: id)
                }
                if length == characterLength { hasSingleCharacter = true }
            }
            if !hasSingleCharacter {
                let end = min(start + characterLength, bytes.count)
                let candidate = unknownScore + scoreHere
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(score: candidate, start: start, id: unknownID ?? -1)
                }
            }
            start += characterLength
        }
        var ranges: [Range<Int>] = []
        var fusedUnknownStart: Int?
        var fusedUnknownEnd = 0
        var end = bytes.count
        while end > 0 {
            let node = best[end]
            let isUnknown = node.id == -1 || node.id == unknownID
            if isUnknown {
                if fusedUnknownStart == nil { fusedUnknownEnd = end }
                fusedUnknownStart = node.start
            } else {
                if let fusedStart = fusedUnknownStart {
                    ranges.append(fusedStart..<fusedUnknownEnd)
                    fusedUnknownStart = nil
                }
                ranges.append(node.start..<end)
            }
            end = node.start
        }
        if let fusedStart = fusedUnknownStart {
            ranges.append(fusedStart..<fusedUnknownEnd)
        }
        return ranges.reversed()
    }
}

/// The number of bytes of the UTF-8 sequence that starts with `byte`.
func utf8Length(leadingByte byte: UInt8) -> Int {
    switch byte {
    case 0..<0x80: return 1
    case 0xC0..<0xE0: return 2
    case 0xE0..<0xF0: return 3
    default: return 4
    }
}

/// A byte trie from token bytes to ids, searched for every token that prefixes a position.
struct ByteTrie: Sendable {
    private var children: [[UInt8: Int32]] = [[:]]
    private var ids: [Int32] = [-1]

    mutating func insert(_ key: [UInt8], id: Int) {
        var node = 0
        for byte in key {
            if let child = children[node][byte] {
                node = Int(child)
            } else {
                children.append([:])
                ids.append(-1)
                children[node][byte] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        if !key.isEmpty { ids[node] = Int32(id) }
    }

    /// Calls `body(length, id)` for each token that starts at `start`, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var position = start
        while position < bytes.count, let child = children[node][bytes[position]] {
            node = Int(child)
            position += 1
            if ids[node] >= 0 { body(position - start, Int(ids[node])) }
        }
    }
}
