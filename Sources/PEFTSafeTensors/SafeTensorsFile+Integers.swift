/// Reading integer tensors exactly, without the rounding of ``SafeTensorsFile/floats(_:)``.
extension SafeTensorsFile {
    /// The values of the integer tensor named `tensor` in row-major order, widened exactly to
    /// Int64.
    ///
    /// BOOL, U8, I8, U16, I16, U32, I32 and I64 are read; indices stored as I64 come back as
    /// written, where ``floats(_:)`` would round those above 2²⁴.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` if there is no such tensor, or
    ///   ``SafeTensorsError/invalidField(file:tensor:field:expected:)`` naming the `dtype` if it
    ///   is a float or U64, whose values an Int64 cannot hold exactly.
    public func int64s(_ tensor: String) throws -> [Int64] {
        let info = try requireInfo(tensor)
        return try withUnsafeBytes(of: tensor) { bytes throws -> [Int64] in
            switch info.dtype {
            case .bool: return Self.widen(bytes, as: UInt8.self) { $0 == 0 ? 0 : 1 }
            case .uint8: return Self.widen(bytes, as: UInt8.self) { Int64($0) }
            case .int8: return Self.widen(bytes, as: Int8.self) { Int64($0) }
            case .uint16: return Self.widen(bytes, as: UInt16.self) { Int64($0) }
            case .int16: return Self.widen(bytes, as: Int16.self) { Int64($0) }
            case .uint32: return Self.widen(bytes, as: UInt32.self) { Int64($0) }
            case .int32: return Self.widen(bytes, as: Int32.self) { Int64($0) }
            case .int64: return Self.widen(bytes, as: Int64.self) { $0 }
            case .uint64, .float8E5M2, .float8E4M3, .float16, .bfloat16, .float32, .float64:
                throw SafeTensorsError.invalidField(
                    file: name, tensor: tensor, field: "dtype",
                    expected:
                        "an integer dtype that Int64 holds exactly (BOOL, U8 to U32, I8 to I64)"
                )
            }
        }
    }

    /// Reads little-endian `Stored` elements from `bytes` and converts each with `transform`.
    private static func widen<Stored: FixedWidthInteger>(
        _ bytes: UnsafeRawBufferPointer, as _: Stored.Type, _ transform: (Stored) -> Int64
    ) -> [Int64] {
        let stride = MemoryLayout<Stored>.size
        return (0..<(bytes.count / stride)).map { index in
            let stored = bytes.loadUnaligned(fromByteOffset: index * stride, as: Stored.self)
            return transform(Stored(littleEndian: stored))
        }
    }
}
