import PEFTTensor

/// Which adapter each row of a batch runs with, for the length of one call: Hugging Face PEFT's
/// `adapter_names`.
///
/// Rows naming the same adapter form a group; rows naming ``baseName`` (or an adapter a layer does
/// not carry) see the base layer alone. A layer computes each adapter's update on its group's rows
/// only, gathered into a block, and puts the blocks back in row order.
public struct AdapterRowAssignment: Equatable, Sendable {
    /// The name that asks for the base model without any adapter: `"__base__"`, as in PEFT.
    public static let baseName = "__base__"

    /// The adapter name of every row.
    public let rowAdapters: [String]
    /// The rows of each named adapter, in order of first appearance; ``baseName`` rows are left out.
    public let groups: [(adapter: String, rows: [Int])]

    /// The assignment for a batch whose row `i` runs with `names[i]`.
    public init(_ names: [String]) {
        rowAdapters = names
        var order: [String] = []
        var rows: [String: [Int]] = [:]
        for (row, name) in names.enumerated() where name != Self.baseName {
            if rows[name] == nil { order.append(name) }
            rows[name, default: []].append(row)
        }
        groups = order.map { ($0, rows[$0]!) }
    }

    /// The number of rows, B.
    public var batchSize: Int { rowAdapters.count }

    /// The distinct adapters named, base left out.
    public var adapters: [String] { groups.map(\.adapter) }

    /// Two assignments are equal when they name the same adapter for every row.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.rowAdapters == rhs.rowAdapters }

    /// Reassembles a batch from per-group blocks: `blocks[i]` holds the rows `rows[i]` of the result
    /// (`[nᵢ, ...]`), and together the lists cover every row once.
    static func assemble(_ blocks: [Tensor], rows: [[Int]]) -> Tensor {
        if blocks.count == 1 { return blocks[0] }
        let order = rows.flatMap { $0 }
        var inverse = [Int](repeating: 0, count: order.count)
        for (position, row) in order.enumerated() { inverse[row] = position }
        return selectingRows(concatenate(blocks, alongAxis: 0), inverse)
    }
}

/// The rows `rows` of `x` along its first axis, `[n, ...]`; differentiable (a gather).
func selectingRows(_ x: Tensor, _ rows: [Int]) -> Tensor {
    if rows.count == x.shape[0] && rows.elementsEqual(0..<x.shape[0]) { return x }
    let rest = Array(x.shape.dropFirst())
    let table = x.reshaped(to: [x.shape[0], rest.reduce(1, *)])
    return gatherRows(table, indices: rows).reshaped(to: [rows.count] + rest)
}

/// An adapter layer that can run a batch whose rows use different adapters.
///
/// ``PEFTModel/withAdapterNames(_:_:)`` sets ``rowAssignment`` on every such layer for one call and
/// clears it afterwards; while it is `nil` the layer runs its ordinary forward pass, so the feature
/// costs nothing unused.
public protocol RowAdapterSelecting: AdapterLayer {
    /// The row → adapter assignment of the call in progress, or `nil`.
    var rowAssignment: AdapterRowAssignment? { get set }
}

extension AdapterRowAssignment {
    /// Splits a batch into blocks: each group this layer can run (`runs` says which), then the rest.
    ///
    /// Returns `(adapter or nil for the base, rows)` pairs covering every row once.
    func blocks(runnable runs: (String) -> Bool) -> [(adapter: String?, rows: [Int])] {
        var result: [(adapter: String?, rows: [Int])] = []
        var covered = Set<Int>()
        for (adapter, rows) in groups where runs(adapter) {
            result.append((adapter, rows))
            covered.formUnion(rows)
        }
        let rest = (0..<batchSize).filter { !covered.contains($0) }
        if !rest.isEmpty { result.append((nil, rest)) }
        return result
    }
}
