import PEFTTensor

/// Stochastic gradient descent with optional momentum, as `torch.optim.SGD` computes it.
///
/// For a gradient `g`:
///
///     g ← g + λ·p                                    (weight decay, when λ ≠ 0)
///     b ← g at the first step, else μ·b + (1 − τ)·g  (momentum buffer, when μ ≠ 0)
///     d ← g + μ·b with Nesterov momentum, else b     (g itself without momentum)
///     p ← p − lr·d
///
/// Without momentum the optimizer keeps no state.
public final class SGD: Optimizer {
    /// The parameters this optimizer updates: those that were trainable when it was created.
    public let parameters: [Parameter]
    /// The step size used by the next ``step()``.
    public var learningRate: Float
    /// The momentum factor, μ; 0 disables momentum.
    public var momentum: Float
    /// The share of each gradient held back from the momentum buffer, τ.
    public var dampening: Float
    /// The L2 weight decay factor added to the gradient, λ.
    public var weightDecay: Float
    /// Whether the update looks ahead along the momentum (Nesterov momentum).
    public var nesterov: Bool
    /// The number of completed calls to ``step()``.
    public internal(set) var stepCount = 0

    /// The momentum buffer of `parameters[i]`, or `nil` before its first gradient.
    var momentumBuffers: [TensorStorage?]

    /// Creates an optimizer for the trainable ones among `parameters`.
    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, momentum: Float = 0,
        dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false
    ) {
        precondition(learningRate >= 0, "SGD: negative learning rate \(learningRate)")
        precondition(momentum >= 0, "SGD: negative momentum \(momentum)")
        precondition(weightDecay >= 0, "SGD: negative weight decay \(weightDecay)")
        precondition(
            !nesterov || (momentum > 0 && dampening == 0),
            "SGD: Nesterov momentum needs a positive momentum and zero dampening")
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.momentumBuffers = Array(repeating: nil, count: self.parameters.count)
    }

    /// The number of momentum values held: one per element of each parameter that has a buffer.
    public var stateElementCount: Int {
        momentumBuffers.reduce(0) { $0 + ($1?.count ?? 0) }
    }

    /// Whether the optimizer holds a momentum buffer for `parameter`.
    public func hasState(for parameter: Parameter) -> Bool {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return false }
        return momentumBuffers[index] != nil
    }

    /// Updates every parameter that has a gradient, in place, and counts one step.
    public func step() {
        let region = OperationProfiler.enter(.optimizer)
        defer { region.end() }
        withoutGradients {
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                precondition(
                    gradient.shape == parameter.shape,
                    "SGD: gradient \(gradient.shape) does not match parameter \(parameter.shape)")
                update(index, gradient: gradient.storage.pointer)
            }
        }
        stepCount += 1
    }

    /// Applies one update to `parameters[index]`, creating its momentum buffer if it needs one.
    private func update(_ index: Int, gradient: UnsafeMutablePointer<Float>) {
        let negativeLearningRate = -learningRate
        let weightDecay = self.weightDecay
        guard momentum != 0 else {
            parameters[index].updateInPlace { value in
                for element in value.indices {
                    let g = gradient[element] + weightDecay * value[element]
                    value[element] += negativeLearningRate * g
                }
            }
            return
        }
        let isFirstStep = momentumBuffers[index] == nil
        let buffer = momentumBuffers[index] ?? TensorStorage(count: parameters[index].count)
        momentumBuffers[index] = buffer
        let momentum = self.momentum
        let gradientWeight = 1 - dampening
        let nesterov = self.nesterov
        let velocity = buffer.pointer
        parameters[index].updateInPlace { value in
            for element in value.indices {
                let g = gradient[element] + weightDecay * value[element]
                velocity[element] =
                    isFirstStep ? g : velocity[element] * momentum + gradientWeight * g
                let direction = nesterov ? g + momentum * velocity[element] : velocity[element]
                value[element] += negativeLearningRate * direction
            }
        }
    }
}
