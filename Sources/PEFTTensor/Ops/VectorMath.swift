/// Eight-lane kernels for the row-wise ops: loads, reductions and a vectorised `exp`.
///
/// The compiler will not vectorise a plain `for` loop that sums Floats (reassociating the sum would
/// change its rounding), nor one that calls `expf`, so the hot loops of softmax, LayerNorm,
/// cross-entropy and GELU use `SIMD8<Float>` explicitly. Every reduction adds its lanes in a fixed
/// order, so results do not depend on the machine or on how rows are spread over threads.

/// The vector width of the kernels below.
typealias FloatVector = SIMD8<Float>

extension UnsafePointer where Pointee == Float {
    /// Eight elements starting at `offset`, whatever the alignment.
    @inline(__always)
    func vector(at offset: Int) -> FloatVector {
        UnsafeRawPointer(self + offset).loadUnaligned(as: FloatVector.self)
    }

    /// The elements from `offset` up to `end` (fewer than eight), with `padding` in the lanes past it.
    @inline(__always)
    func partialVector(at offset: Int, end: Int, padding: Float) -> FloatVector {
        var lanes = FloatVector(repeating: padding)
        for lane in 0..<(end - offset) { lanes[lane] = self[offset + lane] }
        return lanes
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Writes eight elements starting at `offset`, whatever the alignment.
    @inline(__always)
    func store(_ lanes: FloatVector, at offset: Int) {
        UnsafeMutableRawPointer(self + offset).storeBytes(
            of: lanes, toByteOffset: 0, as: FloatVector.self)
    }

    /// Writes the first `end − offset` lanes (fewer than eight) starting at `offset`.
    @inline(__always)
    func storePartial(_ lanes: FloatVector, at offset: Int, end: Int) {
        for lane in 0..<(end - offset) { self[offset + lane] = lanes[lane] }
    }
}

/// Applies `body` to `count` elements eight at a time, then to the tail padded with `padding`.
///
/// `body` gets the offset and the number of valid lanes (8 except for the tail), so one code path,
/// and therefore one rounding, serves every element.
@inline(__always)
func forEachVector(count: Int, _ body: (_ offset: Int, _ lanes: Int) -> Void) {
    var offset = 0
    while offset + 8 <= count {
        body(offset, 8)
        offset += 8
    }
    if offset < count { body(offset, count - offset) }
}

/// Loads eight elements, or the tail padded with `padding`.
@inline(__always)
func load(_ p: UnsafePointer<Float>, _ offset: Int, lanes: Int, padding: Float) -> FloatVector {
    lanes == 8
        ? p.vector(at: offset) : p.partialVector(at: offset, end: offset + lanes, padding: padding)
}

/// Stores eight elements, or only the tail's valid lanes.
@inline(__always)
func store(_ value: FloatVector, _ p: UnsafeMutablePointer<Float>, _ offset: Int, lanes: Int) {
    if lanes == 8 {
        p.store(value, at: offset)
    } else {
        p.storePartial(value, at: offset, end: offset + lanes)
    }
}

/// The largest of `count` elements (−∞ for none); NaN-free inputs assumed, as `Swift.max` does.
@inline(__always)
func vectorMaximum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var maximum = FloatVector(repeating: -.infinity)
    forEachVector(count: count) { offset, lanes in
        // `replace(with:where:)` inlines to one `maxps`-like select; `pointwiseMax` stays a call.
        let lanes = load(p, offset, lanes: lanes, padding: -.infinity)
        maximum.replace(with: lanes, where: lanes .> maximum)
    }
    return maximum.max()
}

/// `Σ p[i]`, summed in eight lanes and then across them.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var total = FloatVector()
    forEachVector(count: count) { offset, lanes in
        total += load(p, offset, lanes: lanes, padding: 0)
    }
    return total.sum()
}

/// `Σ a[i]·b[i]`, summed in eight lanes and then across them.
@inline(__always)
func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var total = FloatVector()
    forEachVector(count: count) { offset, lanes in
        total +=
            load(a, offset, lanes: lanes, padding: 0) * load(b, offset, lanes: lanes, padding: 0)
    }
    return total.sum()
}

/// `e^x` for eight lanes, within about 2 ulp of `expf`, with no libm call so it stays in registers.
///
/// Cephes' range reduction: `x = n·ln2 + r` with `|r| ≤ ln2/2`, a degree-6 polynomial for `e^r`, and
/// `2^n` built in the exponent bits. Inputs below −87.3 give exactly 0 (so a −∞ mask gives 0, as
/// `expf` does), inputs above 88.0 give +∞ past 88.72 and e^88 between, and NaN stays NaN. The
/// rounding of `n` uses the 1.5·2²³ trick, which needs no SSE4 instruction.
// `@_transparent`, not `@inline(__always)`: LLVM otherwise kept this as an out-of-line call from
// the closures of the row loops, passing eight lanes through memory each time.
@_transparent
func vectorExp(_ x: FloatVector) -> FloatVector {
    let magic: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer in the low bits.
    // No lower clamp: lanes below −87.3 compute garbage that the last select but one replaces with 0.
    let clamped = x.replacing(with: 88.0, where: x .> 88.0)
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = FloatVector(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let polynomial = p * (r * r) + r + 1
    let exponent =
        (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
            &+ 127) &<< 23
    var result = polynomial * unsafeBitCast(exponent, to: FloatVector.self)
    result.replace(with: 0, where: x .< -87.336_54)
    result.replace(with: .infinity, where: x .> 88.722_83)
    return result
}
