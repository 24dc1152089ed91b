/// Sums, means and maxima along one axis or over every element.

extension Tensor {
    /// Views the tensor as `[outer, n, inner]` around `axis`.
    func splitShape(around axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    func reducedShape(_ axis: Int, keepingDimension: Bool) -> [Int] {
        var reduced = shape
        if keepingDimension { reduced[axis] = 1 } else { reduced.remove(at: axis) }
        return reduced
    }

    /// The sum along `axis`, which is removed unless `keepingDimension` is set.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let axis = normalizedAxis(axis)
        let (outer, n, inner) = splitShape(around: axis)
        let source = storage.pointer
        let output = Tensor.build(reducedShape(axis, keepingDimension: keepingDimension)) { out in
            out.initialize(repeating: 0, count: outer * inner)
            for o in 0..<outer {
                let destination = out + o * inner
                for k in 0..<n {
                    let row = source + (o * n + k) * inner
                    for i in 0..<inner { destination[i] += row[i] }
                }
            }
        }
        let keptShape = reducedShape(axis, keepingDimension: true)
        return .result(output, of: [self]) { g in
            [g.reshaped(to: keptShape).broadcastMaterialized(to: self.shape)]
        }
    }

    /// The mean along `axis`, which is removed unless `keepingDimension` is set.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(size(axis)))
    }

    /// The sum of every element, as a zero-dimensional tensor.
    public func sum() -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let source = storage.pointer
        var total: Double = 0
        for index in 0..<count { total += Double(source[index]) }
        let output = Tensor(Float(total))
        return .result(output, of: [self]) { g in [Tensor.full(self.shape, g.scalar)] }
    }

    /// The mean of every element, as a zero-dimensional tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// The maximum along `axis`; the gradient flows to the first maximal element.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let axis = normalizedAxis(axis)
        let (outer, n, inner) = splitShape(around: axis)
        precondition(n > 0, "max: axis \(axis) of \(shape) is empty")
        let source = storage.pointer
        var winners = [Int](repeating: 0, count: outer * inner)
        let output = Tensor.build(reducedShape(axis, keepingDimension: keepingDimension)) { out in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = source[o * n * inner + i]
                    var bestIndex = 0
                    for k in 1..<Swift.max(n, 1) where source[(o * n + k) * inner + i] > best {
                        best = source[(o * n + k) * inner + i]
                        bestIndex = k
                    }
                    out[o * inner + i] = best
                    winners[o * inner + i] = bestIndex
                }
            }
        }
        return .result(output, of: [self]) { g in
            let dy = g.storage.pointer
            return [
                Tensor.build(self.shape) { dx in
                    dx.initialize(repeating: 0, count: self.count)
                    for o in 0..<outer {
                        for i in 0..<inner {
                            dx[(o * n + winners[o * inner + i]) * inner + i] = dy[o * inner + i]
                        }
                    }
                }
            ]
        }
    }

    /// The maximum of every element, as a zero-dimensional tensor.
    public func max() -> Tensor {
        reshaped(to: [count]).max(alongAxis: 0)
    }
}
