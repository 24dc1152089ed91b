/// Normalises the last dimension to zero mean and unit variance, then scales and shifts it.
///
/// `y = (x − mean) / sqrt(var + eps) · weight + bias`, with the biased variance as PyTorch uses.
/// `weight` and `bias` are `[C]` and optional. One node with a fused backward:
/// `dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))` where `ĝ = dy ⊙ weight`.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) -> Tensor
{
    let region = OperationProfiler.enter(.normalization)
    defer { region.end() }
    let width = x.shape.last ?? 1
    let rows = x.count / max(width, 1)
    if let weight {
        precondition(
            weight.shape == [width], "layerNorm: weight \(weight.shape) for input \(x.shape)")
    }
    if let bias {
        precondition(bias.shape == [width], "layerNorm: bias \(bias.shape) for input \(x.shape)")
    }
    // Large blocks keep the per-block weight and bias partial sums of backward few.
    let rowsPerBlock = ParallelLoops.rowsPerBlock(elementsPerRow: width, targetElements: 1 << 17)
    var means = [Float](repeating: 0, count: rows)
    var inverseDeviations = [Float](repeating: 0, count: rows)
    let source = UnsafePointer(x.storage.pointer)
    let w = weight.map { UnsafePointer($0.storage.pointer) }
    let b = bias.map { UnsafePointer($0.storage.pointer) }
    let output = Tensor.build(x.shape) { out in
        means.withUnsafeMutableBufferPointer { means in
            inverseDeviations.withUnsafeMutableBufferPointer { inverseDeviations in
                ParallelLoops.forEachBlock(
                    rows: rows, rowsPerBlock: rowsPerBlock, elementsPerRow: width
                ) { _, block in
                    for row in block {
                        let input = source + row * width
                        let mean = vectorSum(input, count: width) / Float(width)
                        var squares = FloatVector()
                        forEachVector(count: width) { offset, lanes in
                            // Padding with the mean makes the spare lanes' deviation zero.
                            let centred = load(input, offset, lanes: lanes, padding: mean) - mean
                            squares += centred * centred
                        }
                        let inverse = 1 / (squares.sum() / Float(width) + epsilon).squareRoot()
                        means[row] = mean
                        inverseDeviations[row] = inverse
                        let y = out + row * width
                        // One loop per affine variant keeps each free of per-element branches.
                        switch (w, b) {
                        case (let w?, let b?):
                            for j in 0..<width { y[j] = (input[j] - mean) * inverse * w[j] + b[j] }
                        case (let w?, nil):
                            for j in 0..<width { y[j] = (input[j] - mean) * inverse * w[j] }
                        case (nil, let b?):
                            for j in 0..<width { y[j] = (input[j] - mean) * inverse + b[j] }
                        case (nil, nil):
                            for j in 0..<width { y[j] = (input[j] - mean) * inverse }
                        }
                    }
                }
            }
        }
    }
    return .result(output, of: [x, weight, bias]) { g in
        let dy = UnsafePointer(g.storage.pointer)
        let wantsInput = x.requiresGradient
        let wantsWeight = weight?.requiresGradient == true
        let wantsBias = bias?.requiresGradient == true
        // The weight and bias gradients sum over rows: each block sums its own rows into its slot,
        // and the slots are added in block order, so the result does not depend on the threads.
        let blocks = ParallelLoops.blockCount(rows: rows, rowsPerBlock: rowsPerBlock)
        let partialCount = (wantsWeight || wantsBias) ? blocks * width : 0
        let weightPartials = TensorStorage(count: wantsWeight ? partialCount : 0, repeating: 0)
        let biasPartials = TensorStorage(count: wantsBias ? partialCount : 0, repeating: 0)
        let ones = w == nil ? TensorStorage(count: width, repeating: 1) : nil
        let scale = w ?? UnsafePointer(ones!.pointer)
        let dxStorage = wantsInput ? TensorStorage(count: x.count) : nil
        ParallelLoops.forEachBlock(rows: rows, rowsPerBlock: rowsPerBlock, elementsPerRow: width) {
            block, blockRows in
            let dw = weightPartials.pointer + block * width
            let db = biasPartials.pointer + block * width
            for row in blockRows {
                let input = source + row * width
                let gradientRow = dy + row * width
                let (mean, inverse) = (means[row], inverseDeviations[row])
                if let dxStorage {
                    var sumG = FloatVector()
                    var sumGX = FloatVector()
                    forEachVector(count: width) { offset, lanes in
                        let gHat =
                            load(gradientRow, offset, lanes: lanes, padding: 0)
                            * load(scale, offset, lanes: lanes, padding: 0)
                        let xHat =
                            (load(input, offset, lanes: lanes, padding: mean) - mean) * inverse
                        sumG += gHat
                        sumGX += gHat * xHat
                    }
                    let meanG = sumG.sum() / Float(width)
                    let meanGX = sumGX.sum() / Float(width)
                    let dxRow = dxStorage.pointer + row * width
                    for j in 0..<width {
                        let gHat = gradientRow[j] * scale[j]
                        let xHat = (input[j] - mean) * inverse
                        dxRow[j] = inverse * (gHat - meanG - xHat * meanGX)
                    }
                }
                if wantsWeight {
                    for j in 0..<width { dw[j] += gradientRow[j] * ((input[j] - mean) * inverse) }
                }
                if wantsBias {
                    for j in 0..<width { db[j] += gradientRow[j] }
                }
            }
        }
        let dx = dxStorage.map { Tensor(shape: x.shape, storage: $0) }
        let dweight =
            wantsWeight
            ? Tensor.build([width]) {
                sumRows(weightPartials.pointer, rows: blocks, columns: width, into: $0)
            }
            : nil
        let dbias =
            wantsBias
            ? Tensor.build([width]) {
                sumRows(biasPartials.pointer, rows: blocks, columns: width, into: $0)
            }
            : nil
        withExtendedLifetime(ones) {}
        return [dx, dweight, dbias]
    }
}
