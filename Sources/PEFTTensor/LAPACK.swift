internal import CPEFTBLAS

/// A failure reported by LAPACK, with the routine and its `info` code.
public struct LAPACKError: Error, CustomStringConvertible {
    /// The LAPACK routine that failed.
    public let routine: String
    /// The routine's `info` result: negative for a bad argument, positive for non-convergence.
    public let info: Int
    /// The shape of the matrix it was given.
    public let shape: [Int]

    /// One sentence naming the routine, the code and the shape.
    public var description: String {
        "\(routine) failed with info \(info) on a matrix of shape \(shape)"
            + (info > 0 ? " (the iteration did not converge)" : " (invalid argument)")
    }
}

/// The thin singular value decomposition `A = U·diag(S)·Vᵀ` of a matrix.
public struct SingularValueDecomposition: Sendable {
    /// `[m, k]` with orthonormal columns, `k = min(m, n)`.
    public let u: Tensor
    /// `[k]`, non-negative and descending.
    public let singularValues: Tensor
    /// `[k, n]` with orthonormal rows.
    public let vTransposed: Tensor
}

/// The thin QR decomposition `A = Q·R` of a matrix.
public struct QRDecomposition: Sendable {
    /// `[m, k]` with orthonormal columns, `k = min(m, n)`.
    public let q: Tensor
    /// `[k, n]`, upper triangular.
    public let r: Tensor
}

extension Tensor {
    /// The thin SVD of this `[m, n]` matrix, through LAPACK's divide-and-conquer `sgesdd`.
    public func singularValueDecomposition() throws -> SingularValueDecomposition {
        precondition(rank == 2, "singularValueDecomposition: expected a matrix, got \(shape)")
        let (m, n) = (shape[0], shape[1])
        let k = Swift.min(m, n)
        let work = copied()
        let u = TensorStorage(count: m * k)
        let s = TensorStorage(count: k)
        let vt = TensorStorage(count: k * n)
        let info = LAPACKE_sgesdd(
            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), work.storage.pointer,
            Int32(n),
            s.pointer, u.pointer, Int32(k), vt.pointer, Int32(n))
        guard info == 0 else { throw LAPACKError(routine: "sgesdd", info: Int(info), shape: shape) }
        return SingularValueDecomposition(
            u: Tensor(shape: [m, k], storage: u), singularValues: Tensor(shape: [k], storage: s),
            vTransposed: Tensor(shape: [k, n], storage: vt))
    }

    /// The thin QR decomposition of this `[m, n]` matrix, through `sgeqrf` and `sorgqr`.
    public func qrDecomposition() throws -> QRDecomposition {
        precondition(rank == 2, "qrDecomposition: expected a matrix, got \(shape)")
        let (m, n) = (shape[0], shape[1])
        let k = Swift.min(m, n)
        let work = copied()
        let tau = TensorStorage(count: Swift.max(k, 1))
        var info = LAPACKE_sgeqrf(
            LAPACK_ROW_MAJOR, Int32(m), Int32(n), work.storage.pointer, Int32(n), tau.pointer)
        guard info == 0 else { throw LAPACKError(routine: "sgeqrf", info: Int(info), shape: shape) }
        let r = Tensor.build([k, n]) { out in
            for i in 0..<k {
                for j in 0..<n { out[i * n + j] = j >= i ? work.storage.pointer[i * n + j] : 0 }
            }
        }
        let q = Tensor.build([m, k]) { out in
            for i in 0..<m {
                for j in 0..<k { out[i * k + j] = work.storage.pointer[i * n + j] }
            }
        }
        info = LAPACKE_sorgqr(
            LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), q.storage.pointer, Int32(k), tau.pointer
        )
        guard info == 0 else { throw LAPACKError(routine: "sorgqr", info: Int(info), shape: shape) }
        return QRDecomposition(q: q, r: r)
    }
}
