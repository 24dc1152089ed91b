import PEFTNN
import PEFTTensor

extension IA3Linear: RowAdapterSelecting {
    /// Each group's rows scaled by its own adapter's vector alone; the other rows by none.
    func mixedForward(_ x: Tensor, _ assignment: AdapterRowAssignment) -> Tensor {
        precondition(
            x.shape[0] == assignment.batchSize,
            "IA3Linear: \(assignment.batchSize) adapter names for a batch of \(x.shape[0])")
        let blocks = assignment.blocks(runnable: adapters.runsInMixedBatch)
        if blocks.count == 1 && blocks[0].adapter == nil { return base(x) }
        // Output scaling shares one base pass; input scaling needs a base pass per group.
        let output = isFeedForward ? nil : base(x)
        let parts = blocks.map { adapter, rows -> Tensor in
            let vector = adapter.flatMap { adapters[$0] }?.vector.value.reshaped(to: [-1])
            if let output {
                let baseRows = selectingRows(output, rows)
                return vector.map { baseRows * $0 } ?? baseRows
            }
            let input = selectingRows(x, rows)
            return base(vector.map { input * $0 } ?? input)
        }
        return AdapterRowAssignment.assemble(parts, rows: blocks.map(\.rows))
    }
}
