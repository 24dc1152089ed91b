/// The element type of a tensor in a safetensors file, spelled as in the header's `"dtype"`.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    /// A boolean stored in one byte.
    case bool = "BOOL"
    /// An unsigned 8-bit integer.
    case uint8 = "U8"
    /// A signed 8-bit integer.
    case int8 = "I8"
    /// An 8-bit float with 5 exponent and 2 mantissa bits.
    case float8E5M2 = "F8_E5M2"
    /// An 8-bit float with 4 exponent and 3 mantissa bits, without infinities (`float8_e4m3fn`).
    case float8E4M3 = "F8_E4M3"
    /// A signed 16-bit integer.
    case int16 = "I16"
    /// An unsigned 16-bit integer.
    case uint16 = "U16"
    /// An IEEE 754 half-precision float.
    case float16 = "F16"
    /// A bfloat16: the upper 16 bits of a Float32.
    case bfloat16 = "BF16"
    /// A signed 32-bit integer.
    case int32 = "I32"
    /// An unsigned 32-bit integer.
    case uint32 = "U32"
    /// An IEEE 754 single-precision float.
    case float32 = "F32"
    /// An IEEE 754 double-precision float.
    case float64 = "F64"
    /// A signed 64-bit integer.
    case int64 = "I64"
    /// An unsigned 64-bit integer.
    case uint64 = "U64"

    /// The number of bytes one element occupies.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }
}
