/// Broadcasting arithmetic between tensors and with scalars.

extension Tensor {
    /// Elementwise sum with NumPy broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let output = broadcastBinary(lhs, rhs, op: "add", +)
        return .result(output, of: [lhs, rhs]) { g in
            [
                lhs.requiresGradient ? g.summed(toShape: lhs.shape) : nil,
                rhs.requiresGradient ? g.summed(toShape: rhs.shape) : nil,
            ]
        }
    }

    /// Elementwise difference with NumPy broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let output = broadcastBinary(lhs, rhs, op: "sub", -)
        return .result(output, of: [lhs, rhs]) { g in
            [
                lhs.requiresGradient ? g.summed(toShape: lhs.shape) : nil,
                rhs.requiresGradient ? (-g).summed(toShape: rhs.shape) : nil,
            ]
        }
    }

    /// Elementwise product with NumPy broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let output = broadcastBinary(lhs, rhs, op: "mul", *)
        return .result(output, of: [lhs, rhs]) { g in
            [
                lhs.requiresGradient ? (g * rhs.detached()).summed(toShape: lhs.shape) : nil,
                rhs.requiresGradient ? (g * lhs.detached()).summed(toShape: rhs.shape) : nil,
            ]
        }
    }

    /// Elementwise quotient with NumPy broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let output = broadcastBinary(lhs, rhs, op: "div", /)
        return .result(output, of: [lhs, rhs]) { g in
            let denominator = rhs.detached()
            return [
                lhs.requiresGradient ? (g / denominator).summed(toShape: lhs.shape) : nil,
                rhs.requiresGradient
                    ? (-(g * output.detached()) / denominator).summed(toShape: rhs.shape) : nil,
            ]
        }
    }

    /// Negation.
    public static prefix func - (x: Tensor) -> Tensor { x.mapped(Negation()) }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        lhs.mapped(ScalarAddition(scalar: rhs))
    }
    /// Adds a scalar to every element.
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + -rhs }
    /// Subtracts every element from a scalar.
    public static func - (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapped(SubtractionFromScalar(scalar: lhs))
    }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped(Scaling(factor: rhs)) }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }
    /// Divides a scalar by every element.
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapped(DivisionOfScalar(numerator: lhs))
    }
}

private struct Negation: ElementwiseFunction {
    func value(_ x: Float) -> Float { -x }
    func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

private struct ScalarAddition: ElementwiseFunction {
    let scalar: Float
    func value(_ x: Float) -> Float { x + scalar }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 }
}

private struct SubtractionFromScalar: ElementwiseFunction {
    let scalar: Float
    func value(_ x: Float) -> Float { scalar - x }
    func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

private struct Scaling: ElementwiseFunction {
    let factor: Float
    func value(_ x: Float) -> Float { x * factor }
    func derivative(_ x: Float, _ y: Float) -> Float { factor }
}

private struct DivisionOfScalar: ElementwiseFunction {
    let numerator: Float
    func value(_ x: Float) -> Float { numerator / x }
    func derivative(_ x: Float, _ y: Float) -> Float { -numerator / (x * x) }
}

/// A function applied to every element, with its derivative, for ``Tensor/mapped(_:)``.
///
/// A type rather than a pair of closures because backward has to keep the derivative until later:
/// a stored closure is an opaque call per element, while a generic parameter lets each op's loops be
/// specialised with both functions inlined and, for the simple ones, vectorised.
protocol ElementwiseFunction {
    /// `f(x)`.
    func value(_ x: Float) -> Float
    /// `f′(x)`, given `x` and the output `y = f(x)` (whichever is cheaper to use).
    func derivative(_ x: Float, _ y: Float) -> Float
}

extension Tensor {
    /// Applies `function` to every element; backward multiplies by its derivative.
    ///
    /// Large tensors are split across cores in fixed blocks; each element depends on its own input
    /// only, so the split cannot change a result.
    @inline(__always)
    func mapped<Function: ElementwiseFunction>(_ function: Function) -> Tensor {
        let region = OperationProfiler.enter(.elementwise)
        defer { region.end() }
        let source = UnsafePointer(storage.pointer)
        let output = Tensor.build(shape) { out in
            forEachElementBlock(count: count) { range in
                for index in range { out[index] = function.value(source[index]) }
            }
        }
        return .result(output, of: [self]) { g in
            let y = UnsafePointer(output.storage.pointer)
            let dy = UnsafePointer(g.storage.pointer)
            return [
                Tensor.build(self.shape) { dx in
                    forEachElementBlock(count: self.count) { range in
                        for index in range {
                            dx[index] = dy[index] * function.derivative(source[index], y[index])
                        }
                    }
                }
            ]
        }
    }
}
