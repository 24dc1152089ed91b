import PEFTTensor

/// The ways PEFT's `merge_utils` merge a stack of same-shaped task tensors `Tᵢ` with weights `wᵢ`.
///
/// Pruning acts on each unweighted tensor; a density of 1 or more prunes nothing, as in PEFT.
enum TaskTensorMerge {
    /// `Σ wᵢ·Tᵢ`.
    case taskArithmetic
    /// Keep each tensor's `int(density·n)` largest magnitudes, then `Σ wᵢ·Tᵢ`.
    case magnitudePrune
    /// Magnitude pruning, a sign elected per entry from the pruned stack, then the mean of the
    /// weighted entries that carry it: `Σ wᵢ·Tᵢ·[sign Tᵢ = s] / max(1, #[sign Tᵢ = s])`.
    case ties
    /// `Tᵢ·maskᵢ / density` with Bernoulli(density) masks, then `Σ wᵢ·Tᵢ`.
    case dareLinear
    /// DARE's rescaled random pruning, then TIES's sign election and mean.
    case dareTies

    /// Merges `tasks` (one shape) with `weights`; `mask(i)` supplies task `i`'s DARE keep-mask.
    func merge(
        _ tasks: [Tensor], weights: [Float], density: Double, signMethod: MajoritySignMethod,
        mask: (Int) throws -> Tensor
    ) throws -> Tensor {
        let shape = tasks[0].shape
        if let other = tasks.first(where: { $0.shape != shape }) {
            throw AdapterError.shapeMismatch(
                key: "combined adapter tensor", expected: shape, found: other.shape)
        }
        var pruned = tasks.map(\.scalars)
        if density < 1 {
            switch self {
            case .taskArithmetic: break
            case .magnitudePrune, .ties:
                pruned = pruned.map { Self.magnitudePruned($0, density: density) }
            case .dareLinear, .dareTies:
                for index in pruned.indices {
                    let keep = try mask(index)
                    guard keep.shape == shape else {
                        throw AdapterError.shapeMismatch(
                            key: "DARE mask", expected: shape, found: keep.shape)
                    }
                    Self.randomPrune(&pruned[index], keep: keep.scalars, density: density)
                }
            }
        }
        switch self {
        case .ties, .dareTies:
            return Tensor(
                shape: shape,
                scalars: Self.disjointMerge(pruned, weights: weights, signMethod: signMethod))
        case .taskArithmetic, .magnitudePrune, .dareLinear:
            return Tensor(shape: shape, scalars: Self.weightedSum(pruned, weights: weights))
        }
    }

    /// `values` with all but the `int(density·n)` largest magnitudes set to zero.
    static func magnitudePruned(_ values: [Float], density: Double) -> [Float] {
        let kept = Int(density * Double(values.count))
        var order = Array(values.indices)
        order.sort { abs(values[$0]) > abs(values[$1]) }
        var result = [Float](repeating: 0, count: values.count)
        result.withUnsafeMutableBufferPointer { result in
            values.withUnsafeBufferPointer { values in
                for index in order.prefix(kept) { result[index] = values[index] }
            }
        }
        return result
    }

    /// `values·keep / density`, rounded as PyTorch rounds `tensor * mask / density` in Float.
    static func randomPrune(_ values: inout [Float], keep: [Float], density: Double) {
        let density = Float(density)
        values.withUnsafeMutableBufferPointer { values in
            keep.withUnsafeBufferPointer { keep in
                for index in values.indices {
                    values[index] = values[index] * keep[index] / density
                }
            }
        }
    }

    /// `Σ wᵢ·Tᵢ`, summed in stack order.
    static func weightedSum(_ tasks: [[Float]], weights: [Float]) -> [Float] {
        var sum = [Float](repeating: 0, count: tasks[0].count)
        sum.withUnsafeMutableBufferPointer { sum in
            for (task, weight) in zip(tasks, weights) {
                task.withUnsafeBufferPointer { task in
                    for index in sum.indices { sum[index] += task[index] * weight }
                }
            }
        }
        return sum
    }

    /// TIES's election and disjoint mean. The sign comes from the unweighted stack; zeros never
    /// agree with it, so pruned entries do not count.
    static func disjointMerge(
        _ tasks: [[Float]], weights: [Float], signMethod: MajoritySignMethod
    ) -> [Float] {
        let count = tasks[0].count
        var elected = [Float](repeating: 0, count: count)
        elected.withUnsafeMutableBufferPointer { elected in
            for task in tasks {
                task.withUnsafeBufferPointer { task in
                    for index in elected.indices {
                        elected[index] += signMethod == .total ? task[index] : sign(task[index])
                    }
                }
            }
        }
        var sum = [Float](repeating: 0, count: count)
        var kept = [Float](repeating: 0, count: count)
        sum.withUnsafeMutableBufferPointer { sum in
            kept.withUnsafeMutableBufferPointer { kept in
                elected.withUnsafeBufferPointer { elected in
                    for (task, weight) in zip(tasks, weights) {
                        task.withUnsafeBufferPointer { task in
                            for index in sum.indices
                            where sign(task[index]) == (elected[index] >= 0 ? 1 : -1) {
                                sum[index] += task[index] * weight
                                kept[index] += 1
                            }
                        }
                    }
                    for index in sum.indices { sum[index] /= max(kept[index], 1) }
                }
            }
        }
        return sum
    }

    /// −1, 0 or 1, as `torch.sign`.
    private static func sign(_ value: Float) -> Float {
        value > 0 ? 1 : value < 0 ? -1 : 0
    }
}
