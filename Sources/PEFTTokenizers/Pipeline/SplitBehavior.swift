// What a `Split` pre-tokenizer does with its pattern's matches, as HF's
// `SplitDelimiterBehavior`. On `the-final--countdown` split at `-`:
//     Removed             the / final / countdown
//     Isolated            the / - / final / - / - / countdown
//     MergedWithPrevious  the- / final- / - / countdown
//     MergedWithNext      the / -final / - / -countdown
//     Contiguous          the / - / final / -- / countdown

/// How the matches of a split pattern become pieces.
enum SplitBehavior: Sendable {
    case removed, isolated, mergedWithPrevious, mergedWithNext, contiguous

    /// Reads `behavior`, spelled as HF writes it (`Isolated`) or in lower case.
    init(node: JSONNode) throws(TokenizerError) {
        switch try node.string().lowercased() {
        case "removed": self = .removed
        case "isolated": self = .isolated
        case "mergedwithprevious", "merged_with_previous": self = .mergedWithPrevious
        case "mergedwithnext", "merged_with_next": self = .mergedWithNext
        case "contiguous": self = .contiguous
        default:
            throw node.mismatch(
                "one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
        }
    }

    /// The pieces of a text of `count` scalars, given its `matches` in order; `invert` swaps
    /// what counts as a match.
    func pieces(count: Int, matches: [Range<Int>], invert: Bool) -> [Range<Int>] {
        // Tile the text with (range, isMatch), as HF's `find_matches` does.
        var tiles: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in matches {
            if match.lowerBound > previous {
                tiles.append((previous..<match.lowerBound, invert))
            }
            tiles.append((match, !invert))
            previous = match.upperBound
        }
        if previous < count { tiles.append((previous..<count, invert)) }

        var result: [(range: Range<Int>, isMatch: Bool)] = []
        var previousWasMatch = false
        switch self {
        case .removed:
            return tiles.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return tiles.map(\.range)
        case .mergedWithPrevious:
            for tile in tiles {
                if tile.isMatch, !previousWasMatch, let last = result.last {
                    result[result.count - 1].range = last.range.lowerBound..<tile.range.upperBound
                } else {
                    result.append(tile)
                }
                previousWasMatch = tile.isMatch
            }
        case .mergedWithNext:
            for tile in tiles.reversed() {
                if tile.isMatch, !previousWasMatch, let last = result.last {
                    result[result.count - 1].range = tile.range.lowerBound..<last.range.upperBound
                } else {
                    result.append(tile)
                }
                previousWasMatch = tile.isMatch
            }
            result.reverse()
        case .contiguous:
            for tile in tiles {
                if tile.isMatch == previousWasMatch, let last = result.last {
                    result[result.count - 1].range = last.range.lowerBound..<tile.range.upperBound
                } else {
                    result.append(tile)
                }
                previousWasMatch = tile.isMatch
            }
        }
        return result.map(\.range)
    }
}
