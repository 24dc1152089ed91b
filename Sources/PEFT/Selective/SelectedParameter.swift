/// Which entries of one parameter train: the whole tensor, or some of its elements.
public enum SelectedEntries: Hashable, Sendable {
    /// Every element.
    case all
    /// The row-major flat indices of the chosen elements, sorted ascending and unique.
    case indices([Int])
}

/// One parameter of a ``ParameterSelection``: its path, shape and chosen entries.
public struct SelectedParameter: Hashable, Sendable {
    /// The parameter's dotted path in the model (`transformer.h.0.attn.c_attn.bias`).
    public let path: String
    /// The parameter's shape.
    public let shape: [Int]
    /// The chosen entries; never an empty or complete index list, which become no entry and
    /// ``SelectedEntries/all``.
    public let entries: SelectedEntries

    /// The number of elements of the whole parameter.
    public var elementCount: Int { shape.reduce(1, *) }

    /// The number of chosen elements.
    public var selectedCount: Int {
        switch entries {
        case .all: elementCount
        case .indices(let indices): indices.count
        }
    }

    /// The chosen flat indices, listing every index for a whole-tensor selection.
    public var flatIndices: [Int] {
        switch entries {
        case .all: Array(0..<elementCount)
        case .indices(let indices): indices
        }
    }

    /// Creates the selection of `entries` of the parameter at `path` with `shape`, checking the
    /// indices.
    ///
    /// - Throws: ``SelectiveTuningError/invalidIndices(path:reason:)`` if the indices are not
    ///   strictly increasing or fall outside the parameter.
    init(path: String, shape: [Int], entries: SelectedEntries) throws {
        self.path = path
        self.shape = shape
        let count = shape.reduce(1, *)
        guard case .indices(let indices) = entries else {
            self.entries = .all
            return
        }
        for (position, index) in indices.enumerated() {
            guard (0..<count).contains(index) else {
                throw SelectiveTuningError.invalidIndices(
                    path: path, reason: "index \(index) is outside its \(count) elements")
            }
            guard position == 0 || indices[position - 1] < index else {
                throw SelectiveTuningError.invalidIndices(
                    path: path, reason: "index \(index) follows \(indices[position - 1])")
            }
        }
        self.entries = indices.count == count ? .all : .indices(indices)
    }
}
