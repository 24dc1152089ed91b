import PEFTNN
import PEFTTensor

extension AdapterSet {
    /// Whether `name` is carried, unmerged, and adapters are on: whether a mixed batch runs it here.
    func runsInMixedBatch(_ name: String) -> Bool {
        !isDisabled && self[name] != nil && !isMerged(name)
    }
}

extension LoRALinear: RowAdapterSelecting {
    /// Each group's rows through the base and that adapter alone, computed as the ordinary forward
    /// pass computes them with the adapter active (the fused node for plain LoRA), so a row's output
    /// does not depend on its neighbours; the base-only rows through the base.
    func mixedForward(_ x: Tensor, _ assignment: AdapterRowAssignment) -> Tensor {
        precondition(
            x.shape[0] == assignment.batchSize,
            "LoRALinear: \(assignment.batchSize) adapter names for a batch of \(x.shape[0])")
        let blocks = assignment.blocks(runnable: adapters.runsInMixedBatch)
        if blocks.count == 1 && blocks[0].adapter == nil { return base(x) }
        let (weight, layout, bias) = baseWeight
        let parts = blocks.map { adapter, rows -> Tensor in
            let input = selectingRows(x, rows)
            guard let adapter, let factors = adapters[adapter] else { return base(input) }
            if factors.magnitude == nil && (factors.dropout.probability == 0 || !isTraining)
                && weight.lowPrecision == nil
            {
                return lowRankLinear(
                    input, weight: weight.value, bias: bias?.value, layout: layout,
                    down: factors.down.value, up: factors.up.value, scale: factors.scaling)
            }
            let baseRows = base(input)
            let dropped = factors.dropout(input)
            if let magnitude = factors.magnitude {
                return baseRows
                    + doraUpdate(
                        dropped, baseOutput: baseRows, factors: factors, magnitude: magnitude.value)
            }
            return baseRows
                + linear(linear(dropped, weight: factors.down.value), weight: factors.up.value)
                * factors.scaling
        }
        return AdapterRowAssignment.assemble(parts, rows: blocks.map(\.rows))
    }
}

extension LoRAEmbedding: RowAdapterSelecting {
    /// The base rows for the whole batch, plus each adapter's update looked up for its own rows.
    func mixedLookup(_ ids: [Int], shape: [Int], _ assignment: AdapterRowAssignment) -> Tensor {
        precondition(
            shape.first == assignment.batchSize,
            "LoRAEmbedding: \(assignment.batchSize) adapter names for a batch of \(shape)")
        let output = base(ids, shape: shape)
        let blocks = assignment.blocks(runnable: adapters.runsInMixedBatch)
        if blocks.count == 1 && blocks[0].adapter == nil { return output }
        let width = shape.dropFirst().reduce(1, *)
        let parts = blocks.map { adapter, rows -> Tensor in
            let baseRows = selectingRows(output, rows)
            guard let adapter, let factors = adapters[adapter] else { return baseRows }
            let rowIDs = rows.flatMap { ids[($0 * width)..<(($0 + 1) * width)] }
            return baseRows + update(factors, rowIDs, [rows.count] + shape.dropFirst())
        }
        return AdapterRowAssignment.assemble(parts, rows: blocks.map(\.rows))
    }
}
