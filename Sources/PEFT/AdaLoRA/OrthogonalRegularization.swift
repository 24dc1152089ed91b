import PEFTTensor

/// AdaLoRA's orthogonal regulariser, as PEFT's `AdaLoraModel.forward` adds it to the loss (before its
/// weight): the mean over every `lora_A` and `lora_B` of `‖A·Aᵀ − I‖_F` and `‖Bᵀ·B − I‖_F`.
///
/// It pulls the factors towards orthonormal singular vectors, so that `E` alone carries the
/// magnitudes the allocator ranks. A rank-0 factor counts in the mean and adds nothing.
/// Differentiable in every factor.
public func orthogonalRegularization(downs: [Tensor], ups: [Tensor]) -> Tensor {
    let count = downs.count + ups.count
    guard count > 0 else { return Tensor(0) }
    func deviation(_ gram: Tensor) -> Tensor {
        let difference = gram - identity(gram.shape[0])
        return sqrt((difference * difference).sum())
    }
    var total: Tensor?
    for down in downs where down.shape[0] > 0 {
        let term = deviation(matmul(down, down, transposingRight: true))
        total = total.map { $0 + term } ?? term
    }
    for up in ups where up.shape[1] > 0 {
        let term = deviation(matmul(up, up, transposingLeft: true))
        total = total.map { $0 + term } ?? term
    }
    return (total ?? Tensor(0)) * (1 / Float(count))
}

/// The `n × n` identity.
private func identity(_ n: Int) -> Tensor {
    var scalars = [Float](repeating: 0, count: n * n)
    for index in 0..<n { scalars[index * n + index] = 1 }
    return Tensor(shape: [n, n], scalars: scalars)
}
