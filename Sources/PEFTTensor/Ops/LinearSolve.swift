/// Batched solutions of small square linear systems, differentiable in both operands.

/// Returns `X` with `A·X = B` for each matrix of the batch: `a` is `[..., n, n]`, `b` is `[..., n, m]`
/// with the same leading dimensions, and the result is shaped like `b`.
///
/// Each system is solved by Gaussian elimination with partial pivoting in double precision, which
/// suits the small blocks it is meant for (OFT's Cayley transform, `(I + Q)⁻¹(I − Q)`). A singular
/// matrix gives non-finite values. Backward: `dB = A⁻ᵀ·dX` and `dA = −dB·Xᵀ`.
public func linearSolve(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(
        a.rank >= 2 && a.shape[a.rank - 1] == a.shape[a.rank - 2],
        "linearSolve: the matrices must be square, got \(a.shape)")
    precondition(
        b.rank == a.rank && Array(b.shape.dropLast()) == Array(a.shape.dropLast()),
        "linearSolve: right-hand sides \(b.shape) do not fit the matrices \(a.shape)")
    let solution = LinearSystems.solve(a, b, transposingMatrices: false)
    return .result(solution, of: [a, b]) { gradient in
        // Both gradients need A⁻ᵀ·dX, which is dB.
        let rightGradient = LinearSystems.solve(a, gradient, transposingMatrices: true)
        let matrixGradient =
            a.requiresGradient
            ? matmul(rightGradient, solution, transposingRight: true) * -1 : nil
        return [matrixGradient, b.requiresGradient ? rightGradient : nil]
    }
}

/// The elimination behind ``linearSolve(_:_:)``.
enum LinearSystems {
    /// `A⁻¹·B`, or `A⁻ᵀ·B` when `transposingMatrices`, per batch; no autograd record.
    static func solve(_ a: Tensor, _ b: Tensor, transposingMatrices: Bool) -> Tensor {
        let n = a.shape[a.rank - 1]
        let m = b.shape[b.rank - 1]
        let batchCount = n == 0 ? 0 : a.count / (n * n)
        return Tensor.build(b.shape) { out in
            var matrix = [Double](repeating: 0, count: n * n)
            var right = [Double](repeating: 0, count: n * m)
            for batch in 0..<batchCount {
                let source = a.storage.pointer + batch * n * n
                for i in 0..<n {
                    for j in 0..<n {
                        matrix[i * n + j] = Double(
                            transposingMatrices ? source[j * n + i] : source[i * n + j])
                    }
                }
                let rightSource = b.storage.pointer + batch * n * m
                for index in 0..<(n * m) { right[index] = Double(rightSource[index]) }
                eliminate(&matrix, &right, n: n, m: m)
                let destination = out + batch * n * m
                for index in 0..<(n * m) { destination[index] = Float(right[index]) }
            }
        }
    }

    /// Overwrites `right` (`[n, m]`) with `matrix⁻¹·right`, destroying `matrix` (`[n, n]`).
    private static func eliminate(_ matrix: inout [Double], _ right: inout [Double], n: Int, m: Int)
    {
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<n
            where abs(matrix[row * n + column]) > abs(matrix[pivot * n + column]) {
                pivot = row
            }
            if pivot != column {
                for j in 0..<n { matrix.swapAt(column * n + j, pivot * n + j) }
                for j in 0..<m { right.swapAt(column * m + j, pivot * m + j) }
            }
            let diagonal = matrix[column * n + column]
            for row in (column + 1)..<n {
                let factor = matrix[row * n + column] / diagonal
                guard factor != 0 else { continue }
                for j in column..<n { matrix[row * n + j] -= factor * matrix[column * n + j] }
                for j in 0..<m { right[row * m + j] -= factor * right[column * m + j] }
            }
        }
        for row in stride(from: n - 1, through: 0, by: -1) {
            let diagonal = matrix[row * n + row]
            for j in 0..<m {
                var value = right[row * m + j]
                for k in (row + 1)..<n { value -= matrix[row * n + k] * right[k * m + j] }
                right[row * m + j] = value / diagonal
            }
        }
    }
}
