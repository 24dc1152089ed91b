/// The 4-bit NormalFloat data type of QLoRA (Dettmers et al. 2023, appendix E), as bitsandbytes
/// defines it: 16 levels, the quantiles of N(0, 1) rescaled to [-1, 1] with an exact zero, one Float32
/// absmax per block of 64 values, two codes a byte with the first value in the high nibble.
public enum NF4 {
    /// The values one absmax scales.
    public static let blockSize = 64

    /// The values a double-quantised scale block covers (bitsandbytes' nested block size).
    public static let scaleBlockSize = 256

    /// The 16 levels, in code order (code 7 is exactly zero), as bitsandbytes lists them.
    public static let codeBook: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// The midpoints between neighbouring levels: a normalised value above `midpoints[i]` rounds to a
    /// code above `i`.
    static let midpoints: [Float] = (0..<15).map { (codeBook[$0] + codeBook[$0 + 1]) / 2 }

    /// The code of the level nearest `x` (already scaled by its block's inverse absmax); a value exactly
    /// between two levels takes the lower one, as bitsandbytes' decision tree (strict `>`) does.
    public static func code(nearest x: Float) -> UInt8 {
        // Binary search over the 15 sorted midpoints: four comparisons.
        var low = 0
        var high = 15
        midpoints.withUnsafeBufferPointer { midpoints in
            while low < high {
                let middle = (low + high) / 2
                if x > midpoints[middle] { low = middle + 1 } else { high = middle }
            }
        }
        return UInt8(low)
    }

    /// Both levels of every byte, high nibble first: dequantising is two loads and two multiplies a
    /// byte.
    static let bytePairs: [(Float, Float)] = (0..<256).map {
        (codeBook[$0 >> 4], codeBook[$0 & 15])
    }

    /// The bytes the scales of `blocks` blocks take.
    static func scaleByteCount(blocks: Int, doubleQuantized: Bool) -> Int {
        doubleQuantized
            ? blocks + ((blocks + scaleBlockSize - 1) / scaleBlockSize) * 4 + 4 : blocks * 4
    }
}
