#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementwise functions, each with its derivative beside it.

/// `e^x`.
public func exp(_ x: Tensor) -> Tensor { x.mapped(value: { expf($0) }, derivative: { _, y in y }) }

/// The natural logarithm.
public func log(_ x: Tensor) -> Tensor {
    x.mapped(value: { logf($0) }, derivative: { x, _ in 1 / x })
}

/// The square root.
public func sqrt(_ x: Tensor) -> Tensor {
    x.mapped(value: { sqrtf($0) }, derivative: { _, y in 0.5 / y })
}

/// `1 / sqrt(x)`.
public func rsqrt(_ x: Tensor) -> Tensor {
    x.mapped(value: { 1 / sqrtf($0) }, derivative: { x, y in -0.5 * y / x })
}

/// `x` raised to a constant power.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor {
    x.mapped(
        value: { powf($0, exponent) }, derivative: { x, _ in exponent * powf(x, exponent - 1) })
}

/// The hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
    x.mapped(value: { tanhf($0) }, derivative: { _, y in 1 - y * y })
}

/// The logistic function `1 / (1 + e^-x)`.
public func sigmoid(_ x: Tensor) -> Tensor {
    x.mapped(value: { 1 / (1 + expf(-$0)) }, derivative: { _, y in y * (1 - y) })
}

/// `max(x, 0)`.
public func relu(_ x: Tensor) -> Tensor {
    x.mapped(value: { max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

/// The exact GELU, `x·Φ(x)` with the normal CDF written through `erf`.
public func gelu(_ x: Tensor) -> Tensor {
    x.mapped(
        value: { 0.5 * $0 * (1 + erff($0 * 0.707_106_77)) },
        derivative: { x, _ in
            0.5 * (1 + erff(x * 0.707_106_77)) + x * 0.398_942_28 * expf(-0.5 * x * x)
        })
}

/// GELU's tanh approximation, GPT-2's `gelu_new`: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
public func geluTanh(_ x: Tensor) -> Tensor {
    let c: Float = 0.797_884_56  // √(2/π)
    return x.mapped(
        value: { x in 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x))) },
        derivative: { x, _ in
            let t = tanhf(c * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        })
}

/// SiLU (swish), `x·sigmoid(x)`.
public func silu(_ x: Tensor) -> Tensor {
    x.mapped(
        value: { $0 / (1 + expf(-$0)) },
        derivative: { x, _ in
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        })
}
