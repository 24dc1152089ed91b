/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random tensor, initialisation and dropout mask in the library draws from one of these, so a
/// run with the same seed gives the same numbers on every machine.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose sequence depends only on `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in `[0, 1)` with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box-Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2 * log(max(u1, .leastNonzeroMagnitude))).squareRoot()
        return Float(radius * cos(2 * Double.pi * u2))
    }

    /// Fills `buffer` with normal samples.
    public mutating func fillNormal(
        _ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, standardDeviation: Float = 1
    ) {
        for index in buffer.indices { buffer[index] = mean + standardDeviation * nextNormal() }
    }

    /// Fills `buffer` with uniform samples from `range`.
    public mutating func fillUniform(
        _ buffer: UnsafeMutableBufferPointer<Float>, in range: Range<Float>
    ) {
        let width = range.upperBound - range.lowerBound
        for index in buffer.indices { buffer[index] = range.lowerBound + width * nextUniform() }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
