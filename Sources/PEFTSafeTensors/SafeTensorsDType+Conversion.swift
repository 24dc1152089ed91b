// Converts stored little-endian elements of any dtype to Float32.

extension SafeTensorsDType {
    /// Converts the little-endian elements in `source` to Float32, filling `destination`.
    ///
    /// Floats round to the nearest Float32 (F64 overflows to infinity); integers round to nearest.
    /// F16, BF16 and F8 values are all exactly representable, so they convert without rounding.
    /// `source` must hold exactly `destination.count` elements of this dtype.
    func convertToFloat(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(source.count == destination.count * byteCount)
        switch self {
        case .float32:
            #if _endian(little)
                if let base = destination.baseAddress, let sourceBase = source.baseAddress {
                    UnsafeMutableRawPointer(base).copyMemory(
                        from: sourceBase, byteCount: source.count)
                }
            #else
                convert(source, into: destination) { Float(bitPattern: $0 as UInt32) }
            #endif
        case .float16: convert(source, into: destination) { Self.floatFromHalf($0 as UInt16) }
        case .bfloat16:
            convert(source, into: destination) { Float(bitPattern: UInt32($0 as UInt16) << 16) }
        case .float64:
            convert(source, into: destination) { Float(Double(bitPattern: $0 as UInt64)) }
        case .float8E5M2:
            convert(source, into: destination) { Self.floatFromHalf(UInt16($0 as UInt8) << 8) }
        case .float8E4M3: convert(source, into: destination) { Self.floatFromE4M3($0 as UInt8) }
        case .bool: convert(source, into: destination) { ($0 as UInt8) == 0 ? 0 : 1 }
        case .uint8: convert(source, into: destination) { Float($0 as UInt8) }
        case .int8: convert(source, into: destination) { Float($0 as Int8) }
        case .int16: convert(source, into: destination) { Float($0 as Int16) }
        case .uint16: convert(source, into: destination) { Float($0 as UInt16) }
        case .int32: convert(source, into: destination) { Float($0 as Int32) }
        case .uint32: convert(source, into: destination) { Float($0 as UInt32) }
        case .int64: convert(source, into: destination) { Float($0 as Int64) }
        case .uint64: convert(source, into: destination) { Float($0 as UInt64) }
        }
    }

    private func convert<Stored: FixedWidthInteger>(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>,
        _ transform: (Stored) -> Float
    ) {
        let stride = MemoryLayout<Stored>.size
        for index in destination.indices {
            let stored = source.loadUnaligned(fromByteOffset: index * stride, as: Stored.self)
            destination[index] = transform(Stored(littleEndian: stored))
        }
    }

    /// The Float32 value of IEEE 754 half-precision bits: 1 sign, 5 exponent, 10 mantissa bits.
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 == 0 ? 1 : -1
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            return sign * Float(mantissa) * 0x1p-24
        case 0x1F:
            return Float(bitPattern: UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(
                bitPattern: UInt32(bits & 0x8000) << 16 | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The Float32 value of `float8_e4m3fn` bits: 1 sign, 4 exponent (bias 7), 3 mantissa bits,
    /// with no infinities and NaN only when all exponent and mantissa bits are set.
    static func floatFromE4M3(_ bits: UInt8) -> Float {
        let sign: Float = bits & 0x80 == 0 ? 1 : -1
        let exponent = UInt32(bits >> 3) & 0x0F
        let mantissa = UInt32(bits & 0x07)
        if exponent == 0 {
            return sign * Float(mantissa) * 0x1p-9
        }
        if exponent == 0x0F, mantissa == 0x07 {
            return .nan
        }
        return Float(
            bitPattern: UInt32(bits & 0x80) << 24 | (exponent + 120) << 23 | mantissa << 20)
    }
}
