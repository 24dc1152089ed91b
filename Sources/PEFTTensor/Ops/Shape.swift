/// Reshaping, permuting, slicing, joining and expanding.

extension Tensor {
    /// The same elements under a new shape; one dimension may be `-1` and is inferred. No copy.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element)
                .reduce(1, *)
            precondition(
                known > 0 && count % known == 0, "reshape: cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(
            resolved.reduce(1, *) == count, "reshape: cannot reshape \(shape) to \(newShape)")
        let output = Tensor(shape: resolved, storage: storage)
        return .result(output, of: [self]) { g in [Tensor(shape: self.shape, storage: g.storage)] }
    }

    /// The dimensions reordered: dimension `i` of the result is dimension `permutation[i]` of `self`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        let region = OperationProfiler.enter(.dataMovement)
        defer { region.end() }
        precondition(
            permutation.sorted() == Array(0..<rank),
            "permute: \(permutation) is not a permutation of \(shape)")
        let newShape = permutation.map { shape[$0] }
        let sourceStrides = broadcastStrides(of: shape, in: shape)
        let loop = StridedLoop(
            shape: newShape,
            strides: [
                broadcastStrides(of: newShape, in: newShape), permutation.map { sourceStrides[$0] },
            ])
        let source = storage.pointer
        let output = Tensor.build(newShape) { out in
            loop.forEachRun { offsets, count, strides in
                let o = out + offsets[0]
                let s = source + offsets[1]
                for index in 0..<count { o[index] = s[index * strides[1]] }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (index, axis) in permutation.enumerated() { inverse[axis] = index }
        return .result(output, of: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two dimensions (a copy; matmul takes transposes as flags instead).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var permutation = Array(0..<rank)
        permutation.swapAt(normalizedAxis(first), normalizedAxis(second))
        return permuted(permutation)
    }

    /// The slice `start..<start + length` along `axis`.
    public func narrowed(alongAxis axis: Int, start: Int, length: Int) -> Tensor {
        let region = OperationProfiler.enter(.dataMovement)
        defer { region.end() }
        let axis = normalizedAxis(axis)
        precondition(
            start >= 0 && length >= 0 && start + length <= shape[axis],
            "narrow: \(start)..<\(start + length) out of range for axis \(axis) of \(shape)")
        let (outer, n, inner) = splitShape(around: axis)
        var newShape = shape
        newShape[axis] = length
        let source = storage.pointer
        let output = Tensor.build(newShape) { out in
            for o in 0..<outer {
                (out + o * length * inner).update(
                    from: source + (o * n + start) * inner, count: length * inner)
            }
        }
        return .result(output, of: [self]) { g in
            let dy = g.storage.pointer
            return [
                Tensor.build(self.shape) { dx in
                    dx.initialize(repeating: 0, count: self.count)
                    for o in 0..<outer {
                        (dx + (o * n + start) * inner).update(
                            from: dy + o * length * inner, count: length * inner)
                    }
                }
            ]
        }
    }

    /// Splits along `axis` into consecutive pieces of the given sizes.
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let axis = normalizedAxis(axis)
        precondition(
            sizes.reduce(0, +) == shape[axis],
            "split: sizes \(sizes) do not add up to axis \(axis) of \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrowed(alongAxis: axis, start: start, length: size)
        }
    }

    /// This tensor broadcast to `target` (materialised; the gradient sums back).
    public func expanded(to target: [Int]) -> Tensor {
        let region = OperationProfiler.enter(.dataMovement)
        defer { region.end() }
        let output = broadcastMaterialized(to: target)
        return .result(output, of: [self]) { g in [g.summed(toShape: self.shape)] }
    }
}

/// Joins tensors along `axis`; every other dimension must agree.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
    let region = OperationProfiler.enter(.dataMovement)
    defer { region.end() }
    precondition(!tensors.isEmpty, "concatenate: no tensors")
    let first = tensors[0]
    let axis = first.normalizedAxis(axis)
    for tensor in tensors {
        var expected = first.shape
        expected[axis] = tensor.rank == first.rank ? tensor.shape[axis] : -1
        precondition(
            tensor.shape == expected,
            "concatenate: \(tensor.shape) does not fit \(first.shape) along axis \(axis)")
    }
    let lengths = tensors.map { $0.shape[axis] }
    let total = lengths.reduce(0, +)
    let (outer, _, inner) = first.splitShape(around: axis)
    var newShape = first.shape
    newShape[axis] = total
    let output = Tensor.build(newShape) { out in
        for o in 0..<outer {
            var offset = o * total * inner
            for (tensor, length) in zip(tensors, lengths) {
                (out + offset).update(
                    from: tensor.storage.pointer + o * length * inner, count: length * inner)
                offset += length * inner
            }
        }
    }
    return .result(output, of: tensors) { g in
        var start = 0
        return zip(tensors, lengths).map { tensor, length in
            defer { start += length }
            return tensor.requiresGradient
                ? g.narrowed(alongAxis: axis, start: start, length: length) : nil
        }
    }
}
