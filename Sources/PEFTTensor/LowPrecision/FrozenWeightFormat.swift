/// How a frozen weight matrix is stored: the `--base-dtype` of `peft train`.
///
/// Only frozen matrices (linear weights, embedding tables) are ever stored below fp32; adapters, norms,
/// biases and optimizer state stay fp32, and every product is computed in fp32 from dequantised panels.
public enum FrozenWeightFormat: String, CaseIterable, Sendable, Codable {
    /// Full-precision Float32: 32 bits a value.
    case fp32
    /// bfloat16, the top half of a Float32 (rounded to nearest even): 16 bits a value, exact for a
    /// bf16 checkpoint.
    case bf16
    /// Signed 8-bit integers with one absmax scale per output channel: 8 bits a value plus a Float32 per
    /// channel.
    case int8
    /// 4-bit NormalFloat (QLoRA): a code book of 16 levels and one absmax per block of
    /// ``NF4/blockSize`` values: 4.5 bits a value (4.127 with double-quantised scales).
    case nf4

    /// The storage of `count` values in this format, scales included, in bytes; `channels` is the
    /// number of output channels (int8's scales).
    public func byteCount(values count: Int, channels: Int, doubleQuantized: Bool = false) -> Int {
        switch self {
        case .fp32: count * 4
        case .bf16: count * 2
        case .int8: count + channels * 4
        case .nf4:
            (count + 1) / 2
                + NF4.scaleByteCount(
                    blocks: (count + NF4.blockSize - 1) / NF4.blockSize,
                    doubleQuantized: doubleQuantized)
        }
    }
}
