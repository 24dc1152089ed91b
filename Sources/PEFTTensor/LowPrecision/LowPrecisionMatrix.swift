/// A frozen `[rows, columns]` matrix stored in bf16, int8 or NF4, dequantised panel by panel where it
/// is used.
///
/// Nothing keeps a Float32 copy: ``dequantizeRows(_:into:)`` writes a range of rows into a buffer the
/// caller reuses, which is how ``linear(_:lowPrecisionWeight:bias:layout:)`` runs its GEMMs. The
/// matrix is immutable, so one instance may be read from several threads.
public final class LowPrecisionMatrix: @unchecked Sendable {
    /// The format the values are stored in (never ``FrozenWeightFormat/fp32``).
    public let format: FrozenWeightFormat
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// int8's scale axis: 0 for one scale per row, 1 for one per column (the output channels of a
    /// `[in, out]` weight).
    public let channelAxis: Int

    private let storage: Storage

    private enum Storage {
        case bf16([UInt16])
        case int8([Int8], scales: [Float])
        case nf4([UInt8], scales: NF4Scales)
    }

    /// The shape, `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// The number of values.
    public var count: Int { rows * columns }

    /// Quantises `matrix` (rank 2) into `format`; `channelAxis` picks int8's per-channel scales and
    /// `doubleQuantizeScales` stores NF4's block scales in 8 bits (QLoRA's double quantisation).
    public init(
        _ matrix: Tensor, format: FrozenWeightFormat, channelAxis: Int = 0,
        doubleQuantizeScales: Bool = false
    ) {
        precondition(
            matrix.rank == 2 && format != .fp32 && (channelAxis == 0 || channelAxis == 1),
            "LowPrecisionMatrix: needs a matrix and bf16/int8/nf4, got \(matrix.shape) \(format)")
        (rows, columns) = (matrix.shape[0], matrix.shape[1])
        self.format = format
        self.channelAxis = channelAxis
        let values = matrix.storage.buffer
        switch format {
        case .bf16:
            storage = .bf16(values.map(BFloat16Bits.rounding))
        case .int8:
            storage = Self.quantizeInt8(values, rows: rows, columns: matrix.shape[1], channelAxis)
        case .nf4:
            storage = Self.quantizeNF4(values, doubleQuantizeScales: doubleQuantizeScales)
        case .fp32:
            preconditionFailure("unreachable")
        }
    }

    /// The bytes the values and their scales occupy.
    public var byteCount: Int {
        switch storage {
        case .bf16(let bits): bits.count * 2
        case .int8(let values, let scales): values.count + scales.count * 4
        case .nf4(let codes, let scales): codes.count + scales.byteCount
        }
    }

    /// NF4's packed codes and Float32 block scales, as bitsandbytes stores them (tests compare them).
    var nf4Storage: (codes: [UInt8], absmax: [Float])? {
        guard case .nf4(let codes, let scales) = storage else { return nil }
        return (codes, (0..<((count + NF4.blockSize - 1) / NF4.blockSize)).map { scales[$0] })
    }

    /// The whole matrix in Float32 (a transient copy: merges, tests, norms).
    public func dequantized() -> Tensor {
        Tensor.build(shape) { dequantizeRows(0..<rows, into: $0) }
    }

    /// Writes rows `range` in Float32, row-major, to `output` (`range.count * columns` values).
    public func dequantizeRows(_ range: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= rows,
            "LowPrecisionMatrix.dequantizeRows: \(range) outside \(rows) rows")
        let (start, end) = (range.lowerBound * columns, range.upperBound * columns)
        switch storage {
        case .bf16(let bits):
            bits.withUnsafeBufferPointer { bits in
                for index in start..<end {
                    output[index - start] = BFloat16Bits.float(bits[index])
                }
            }
        case .int8(let values, let scales):
            values.withUnsafeBufferPointer { values in
                scales.withUnsafeBufferPointer { scales in
                    for row in range {
                        let out = output + (row - range.lowerBound) * columns
                        let source = values.baseAddress! + row * columns
                        if channelAxis == 0 {
                            let scale = scales[row]
                            for column in 0..<columns {
                                out[column] = Float(source[column]) * scale
                            }
                        } else {
                            for column in 0..<columns {
                                out[column] = Float(source[column]) * scales[column]
                            }
                        }
                    }
                }
            }
        case .nf4(let codes, let scales):
            codes.withUnsafeBufferPointer { codes in
                NF4.bytePairs.withUnsafeBufferPointer { pairs in
                    Self.dequantizeNF4(
                        codes: codes, pairs: pairs, scales: scales, from: start, to: end,
                        into: output)
                }
            }
        }
    }

    /// The NF4 values `start..<end`, a block at a time: two levels a byte from the pair table.
    private static func dequantizeNF4(
        codes: UnsafeBufferPointer<UInt8>, pairs: UnsafeBufferPointer<(Float, Float)>,
        scales: NF4Scales, from start: Int, to end: Int, into output: UnsafeMutablePointer<Float>
    ) {
        var index = start
        while index < end {
            let block = index / NF4.blockSize
            let blockEnd = min((block + 1) * NF4.blockSize, end)
            let scale = scales[block]
            if index & 1 == 1 {
                output[index - start] = pairs[Int(codes[index >> 1])].1 * scale
                index += 1
            }
            while index + 1 < blockEnd {
                let (high, low) = pairs[Int(codes[index >> 1])]
                output[index - start] = high * scale
                output[index - start + 1] = low * scale
                index += 2
            }
            if index < blockEnd {
                output[index - start] = pairs[Int(codes[index >> 1])].0 * scale
                index += 1
            }
        }
    }

    private static func quantizeInt8(
        _ values: UnsafeBufferPointer<Float>, rows: Int, columns: Int, _ channelAxis: Int
    ) -> Storage {
        var absmax = [Float](repeating: 0, count: channelAxis == 0 ? rows : columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let channel = channelAxis == 0 ? row : column
                absmax[channel] = max(absmax[channel], abs(values[row * columns + column]))
            }
        }
        let scales = absmax.map { $0 / 127 }
        var quantized = [Int8](repeating: 0, count: values.count)
        for row in 0..<rows {
            for column in 0..<columns {
                let scale = scales[channelAxis == 0 ? row : column]
                let value = values[row * columns + column]
                quantized[row * columns + column] =
                    scale > 0 ? Int8(max(-127, min(127, (value / scale).rounded()))) : 0
            }
        }
        return .int8(quantized, scales: scales)
    }

    private static func quantizeNF4(
        _ values: UnsafeBufferPointer<Float>, doubleQuantizeScales: Bool
    ) -> Storage {
        let blocks = (values.count + NF4.blockSize - 1) / NF4.blockSize
        var absmax = [Float](repeating: 0, count: blocks)
        var codes = [UInt8](repeating: 0, count: (values.count + 1) / 2)
        for block in 0..<blocks {
            let range = block * NF4.blockSize..<min((block + 1) * NF4.blockSize, values.count)
            let largest = range.reduce(Float(0)) { max($0, abs(values[$1])) }
            absmax[block] = largest
            // bitsandbytes multiplies by the reciprocal; a zero block stores exact zeros (code 7).
            let inverse = largest > 0 ? 1 / largest : 0
            for index in range {
                let code = NF4.code(nearest: values[index] * inverse)
                codes[index >> 1] |= index & 1 == 0 ? code << 4 : code
            }
        }
        return .nf4(codes, scales: NF4Scales(absmax, doubleQuantize: doubleQuantizeScales))
    }
}

/// NF4's block scales: Float32, or (double quantisation) int8 around their mean with a Float32 scale
/// per ``NF4/scaleBlockSize`` scales.
struct NF4Scales {
    private let plain: [Float]
    private let quantized: [Int8]
    private let scalesOfScales: [Float]
    private let offset: Float

    init(_ absmax: [Float], doubleQuantize: Bool) {
        guard doubleQuantize else {
            (plain, quantized, scalesOfScales, offset) = (absmax, [], [], 0)
            return
        }
        let mean = absmax.isEmpty ? 0 : absmax.reduce(0, +) / Float(absmax.count)
        var scales: [Float] = []
        var codes = [Int8](repeating: 0, count: absmax.count)
        for start in stride(from: 0, to: absmax.count, by: NF4.scaleBlockSize) {
            let range = start..<min(start + NF4.scaleBlockSize, absmax.count)
            let scale = range.reduce(Float(0)) { max($0, abs(absmax[$1] - mean)) } / 127
            scales.append(scale)
            for index in range {
                codes[index] =
                    scale > 0
                    ? Int8(max(-127, min(127, ((absmax[index] - mean) / scale).rounded())))
                    : 0
            }
        }
        (plain, quantized, scalesOfScales, offset) = ([], codes, scales, mean)
    }

    /// The absmax of block `block`.
    @inline(__always) subscript(block: Int) -> Float {
        if !plain.isEmpty { return plain[block] }
        return offset + Float(quantized[block]) * scalesOfScales[block / NF4.scaleBlockSize]
    }

    /// The bytes the scales occupy.
    var byteCount: Int {
        plain.count * 4 + quantized.count + scalesOfScales.count * 4 + (quantized.isEmpty ? 0 : 4)
    }
}

/// bfloat16 as the top 16 bits of a Float32.
public enum BFloat16Bits {
    /// `value` rounded to the nearest bf16, ties to even (NaN stays NaN), as PyTorch converts.
    @inline(__always) public static func rounding(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ roundingBias) >> 16)
    }

    /// The Float32 whose top half is `bits`.
    @inline(__always) public static func float(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
