/// How many entries a ranking may choose, out of the candidate parameters' elements.
public enum SelectionBudget: Hashable, Sendable {
    /// This share of the candidates' elements, in `[0, 1]`, rounded to the nearest count.
    case fraction(Double)
    /// Exactly this many elements at most.
    case count(Int)

    /// The number of elements allowed out of `candidateCount`.
    ///
    /// - Throws: ``SelectiveTuningError/invalidBudget(_:)`` for a negative budget, a fraction
    ///   above 1 or a count above `candidateCount`.
    func elementCount(outOf candidateCount: Int) throws -> Int {
        switch self {
        case .fraction(let share):
            guard (0...1).contains(share) else {
                throw SelectiveTuningError.invalidBudget("fraction \(share) is not in [0, 1]")
            }
            return min(candidateCount, Int((share * Double(candidateCount)).rounded()))
        case .count(let count):
            guard (0...candidateCount).contains(count) else {
                throw SelectiveTuningError.invalidBudget(
                    "count \(count) is not in [0, \(candidateCount)], the candidates' elements")
            }
            return count
        }
    }
}

extension SelectionBudget: Codable {
    private enum CodingKeys: String, CodingKey {
        case fraction, count
    }

    /// Reads `{"fraction": 0.01}` or `{"count": 1000}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let share = try container.decodeIfPresent(Double.self, forKey: .fraction) {
            self = .fraction(share)
        } else {
            self = .count(try container.decode(Int.self, forKey: .count))
        }
    }

    /// Writes `{"fraction": 0.01}` or `{"count": 1000}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fraction(let share): try container.encode(share, forKey: .fraction)
        case .count(let count): try container.encode(count, forKey: .count)
        }
    }
}
