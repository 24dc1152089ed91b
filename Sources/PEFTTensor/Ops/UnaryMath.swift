#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementwise functions, each with its derivative beside it.

/// `e^x`.
public func exp(_ x: Tensor) -> Tensor { x.mapped(Exponential()) }

/// The natural logarithm.
public func log(_ x: Tensor) -> Tensor { x.mapped(Logarithm()) }

/// The square root.
public func sqrt(_ x: Tensor) -> Tensor { x.mapped(SquareRoot()) }

/// `1 / sqrt(x)`.
public func rsqrt(_ x: Tensor) -> Tensor { x.mapped(ReciprocalSquareRoot()) }

/// `x` raised to a constant power.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor { x.mapped(Power(exponent: exponent)) }

/// The hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor { x.mapped(HyperbolicTangent()) }

/// The logistic function `1 / (1 + e^-x)`.
public func sigmoid(_ x: Tensor) -> Tensor { x.mapped(Sigmoid()) }

/// `max(x, 0)`.
public func relu(_ x: Tensor) -> Tensor { x.mapped(RectifiedLinear()) }

/// The exact GELU, `x·Φ(x)` with the normal CDF written through `erf`.
public func gelu(_ x: Tensor) -> Tensor { x.mapped(ExactGELU()) }

/// GELU's tanh approximation, GPT-2's `gelu_new`: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
///
/// Computed as `x·σ(2u)` with `u = √(2/π)·(x + 0.044715·x³)`, the same function since
/// `(1 + tanh u) / 2 = σ(2u)`, because σ needs one `exp` that vectorises where `tanhf` is a libm call.
/// Backward recomputes σ from `x` rather than saving it: `σ + 2·x·σ·(1 − σ)·√(2/π)·(1 + 0.134145·x²)`.
public func geluTanh(_ x: Tensor) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    let source = UnsafePointer(x.storage.pointer)
    let count = x.count
    let output = Tensor.build(x.shape) { y in
        forEachElementBlock(count: count) { range in
            forEachVector(count: range.count) { offset, lanes in
                let start = range.lowerBound + offset
                let v = load(source, start, lanes: lanes, padding: 0)
                store(v * geluTanhSigmoid(v), y, start, lanes: lanes)
            }
        }
    }
    return .result(output, of: [x]) { g in
        let dy = UnsafePointer(g.storage.pointer)
        return [
            Tensor.build(x.shape) { dx in
                forEachElementBlock(count: count) { range in
                    forEachVector(count: range.count) { offset, lanes in
                        let start = range.lowerBound + offset
                        let v = load(source, start, lanes: lanes, padding: 0)
                        let s = geluTanhSigmoid(v)
                        let slope = 2 * 0.797_884_56 * (1 + 0.134_145 * v * v)
                        let derivative = s + v * s * (1 - s) * slope
                        store(
                            load(dy, start, lanes: lanes, padding: 0) * derivative, dx, start,
                            lanes: lanes)
                    }
                }
            }
        ]
    }
}

/// `σ(2u) = 1 / (1 + e^(−2u))` with `u = √(2/π)·(x + 0.044715·x³)`, GELU-tanh's gate.
@inline(__always)
private func geluTanhSigmoid(_ x: FloatVector) -> FloatVector {
    let u = 0.797_884_56 * (x + 0.044715 * x * x * x)
    return 1 / (1 + vectorExp(-2 * u))
}

/// SiLU (swish), `x·sigmoid(x)`.
public func silu(_ x: Tensor) -> Tensor { x.mapped(SiLU()) }

/// `silu(gate) ⊙ up`, SwiGLU's gated product (Llama's MLP), in one pass each way.
///
/// Forward writes the product without a `silu(gate)` tensor; backward recomputes `σ(gate)` from the
/// saved inputs: `d gate = dy·up·σ·(1 + gate·(1 − σ))`, `d up = dy·gate·σ`. Vectorised, with one
/// `exp` per element where `silu` followed by `*` made two passes, a temporary and scalar `expf`s.
public func siluGated(_ gate: Tensor, _ up: Tensor) -> Tensor {
    let region = OperationProfiler.enter(.elementwise)
    defer { region.end() }
    precondition(
        gate.shape == up.shape, "siluGated: gate \(gate.shape) and up \(up.shape) differ")
    let (g, u) = (UnsafePointer(gate.storage.pointer), UnsafePointer(up.storage.pointer))
    let count = gate.count
    let output = Tensor.build(gate.shape) { y in
        forEachElementBlock(count: count) { range in
            forEachVector(count: range.count) { offset, lanes in
                let start = range.lowerBound + offset
                let x = load(g, start, lanes: lanes, padding: 0)
                let sigma = 1 / (1 + vectorExp(-x))
                store(x * sigma * load(u, start, lanes: lanes, padding: 0), y, start, lanes: lanes)
            }
        }
    }
    return .result(output, of: [gate, up]) { gradient in
        let dy = UnsafePointer(gradient.storage.pointer)
        let gateGradient: Tensor? = gate.requiresGradient ? Tensor.build(gate.shape) { _ in } : nil
        let upGradient: Tensor? = up.requiresGradient ? Tensor.build(up.shape) { _ in } : nil
        // Raw pointers outside the loop: reading a tensor's storage in it retains and releases.
        let (dGate, dUp) = (gateGradient?.storage.pointer, upGradient?.storage.pointer)
        forEachElementBlock(count: count) { range in
            forEachVector(count: range.count) { offset, lanes in
                let start = range.lowerBound + offset
                let x = load(g, start, lanes: lanes, padding: 0)
                let sigma = 1 / (1 + vectorExp(-x))
                let d = load(dy, start, lanes: lanes, padding: 0)
                if let dGate {
                    let derivative = sigma * (1 + x * (1 - sigma))
                    store(
                        d * load(u, start, lanes: lanes, padding: 0) * derivative, dGate, start,
                        lanes: lanes)
                }
                if let dUp { store(d * x * sigma, dUp, start, lanes: lanes) }
            }
        }
        return withExtendedLifetime((gate, up, gradient)) { [gateGradient, upGradient] }
    }
}

private struct Exponential: ElementwiseFunction {
    func value(_ x: Float) -> Float { expf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { y }
}

private struct Logarithm: ElementwiseFunction {
    func value(_ x: Float) -> Float { logf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

private struct SquareRoot: ElementwiseFunction {
    func value(_ x: Float) -> Float { sqrtf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

private struct ReciprocalSquareRoot: ElementwiseFunction {
    func value(_ x: Float) -> Float { 1 / sqrtf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { -0.5 * y / x }
}

private struct Power: ElementwiseFunction {
    let exponent: Float
    func value(_ x: Float) -> Float { powf(x, exponent) }
    func derivative(_ x: Float, _ y: Float) -> Float { exponent * powf(x, exponent - 1) }
}

private struct HyperbolicTangent: ElementwiseFunction {
    func value(_ x: Float) -> Float { tanhf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

private struct Sigmoid: ElementwiseFunction {
    func value(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

private struct RectifiedLinear: ElementwiseFunction {
    func value(_ x: Float) -> Float { max(x, 0) }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

private struct ExactGELU: ElementwiseFunction {
    func value(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.707_106_77)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        0.5 * (1 + erff(x * 0.707_106_77)) + x * 0.398_942_28 * expf(-0.5 * x * x)
    }
}

private struct SiLU: ElementwiseFunction {
    func value(_ x: Float) -> Float { x / (1 + expf(-x)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        let s = 1 / (1 + expf(-x))
        return s * (1 + x * (1 - s))
    }
}
