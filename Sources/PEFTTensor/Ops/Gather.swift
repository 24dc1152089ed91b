/// Looks up rows of `table` by index: an embedding lookup.
///
/// `table` is `[V, C]`; `indices` are row numbers in `0..<V` laid out as `indexShape` (a flat list
/// when omitted). The result is `indexShape + [C]`. Backward scatter-adds each output row into the
/// row it came from, so repeated indices accumulate.
public func gatherRows(_ table: Tensor, indices: [Int], indexShape: [Int]? = nil) -> Tensor {
    let region = OperationProfiler.enter(.dataMovement)
    defer { region.end() }
    precondition(table.rank == 2, "gatherRows: table must be [V, C], got \(table.shape)")
    let shape = indexShape ?? [indices.count]
    precondition(
        shape.reduce(1, *) == indices.count,
        "gatherRows: index shape \(shape) does not hold \(indices.count) indices")
    let (rows, width) = (table.shape[0], table.shape[1])
    for index in indices {
        precondition(
            index >= 0 && index < rows,
            "gatherRows: index \(index) out of range for table \(table.shape)")
    }
    let source = table.storage.pointer
    let output = Tensor.build(shape + [width]) { out in
        for (position, index) in indices.enumerated() {
            (out + position * width).update(from: source + index * width, count: width)
        }
    }
    return .result(output, of: [table]) { g in
        let dy = g.storage.pointer
        return [
            Tensor.build(table.shape) { dtable in
                dtable.initialize(repeating: 0, count: rows * width)
                for (position, index) in indices.enumerated() {
                    (dtable + index * width).addInPlace(dy + position * width, count: width)
                }
            }
        ]
    }
}
