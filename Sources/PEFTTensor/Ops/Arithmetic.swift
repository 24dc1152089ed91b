/// Broadcasting arithmetic between tensors and with scalars.

extension Tensor {
    /// Elementwise sum with NumPy broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
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
    public static prefix func - (x: Tensor) -> Tensor {
        x.mapped(value: { -$0 }, derivative: { _, _ in -1 })
    }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        lhs.mapped(value: { $0 + rhs }, derivative: { _, _ in 1 })
    }
    /// Adds a scalar to every element.
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + -rhs }
    /// Subtracts every element from a scalar.
    public static func - (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapped(value: { lhs - $0 }, derivative: { _, _ in -1 })
    }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        lhs.mapped(value: { $0 * rhs }, derivative: { _, _ in rhs })
    }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }
    /// Divides a scalar by every element.
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapped(value: { lhs / $0 }, derivative: { x, _ in -lhs / (x * x) })
    }
}

extension Tensor {
    /// Applies `value` to every element; backward multiplies by `derivative(x, y)`.
    @inline(__always)
    func mapped(value: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let source = storage.pointer
        let output = Tensor.build(shape) { out in
            for index in 0..<count { out[index] = value(source[index]) }
        }
        return .result(output, of: [self]) { g in
            let x = self.storage.pointer
            let y = output.storage.pointer
            let dy = g.storage.pointer
            return [
                Tensor.build(self.shape) { dx in
                    for index in 0..<self.count {
                        dx[index] = dy[index] * derivative(x[index], y[index])
                    }
                }
            ]
        }
    }
}
