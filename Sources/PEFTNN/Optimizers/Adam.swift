import PEFTTensor

/// Adam with L2 weight decay added to the gradient, as `torch.optim.Adam` computes it.
///
/// For a gradient `g` at the parameter's `t`-th step:
///
///     g ← g + λ·p                      (coupled weight decay, when λ ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// with the bias corrections and step size in Double, as PyTorch computes them in Python floats
/// (see ``AdamStep``). ``AdamW`` is the same update with the weight decay decoupled from the
/// gradient.
public class Adam: AdamFamilyOptimizer {
    /// The parameters this optimizer updates: those that were trainable when it was created.
    public let parameters: [Parameter]
    /// The learning rate, decay rates, ε and weight decay used by the next ``step()``.
    public var hyperparameters: AdamHyperparameters
    /// Whether weight decay shrinks the parameters directly (`p ← p·(1 − lr·λ)` before the update,
    /// AdamW) instead of adding `λ·p` to the gradient (Adam).
    public let decouplesWeightDecay: Bool
    /// The number of completed calls to ``step()``.
    public internal(set) var stepCount = 0

    /// The moments and step count of `parameters[i]`, or `nil` before its first gradient.
    public internal(set) var moments: [AdamMoments?]

    /// The group of `parameters[i]`, or `nil` for the optimizer's own settings.
    private let groupOf: [ParameterGroup?]

    /// Creates an optimizer for the trainable ones among `parameters`.
    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decouplesWeightDecay: Bool = false
    ) {
        self.parameters = parameters.filter(\.isTrainable)
        self.hyperparameters = AdamHyperparameters(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay)
        self.decouplesWeightDecay = decouplesWeightDecay
        self.moments = Array(repeating: nil, count: self.parameters.count)
        self.groupOf = Array(repeating: nil, count: self.parameters.count)
    }

    /// Creates an optimizer for the trainable ones among `parameters`, in that order, each with the
    /// learning rate and weight decay of the group in `groups` that holds it.
    ///
    /// The optimizer's `learningRate` and `weightDecay` are those of a parameter in no group; a
    /// group scales the rate and may replace the decay (see ``ParameterGroup``).
    ///
    /// - Precondition: No parameter is in two groups.
    public init(
        _ parameters: [Parameter], groups: [ParameterGroup], learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decouplesWeightDecay: Bool = false
    ) {
        var membership: [ObjectIdentifier: ParameterGroup] = [:]
        for group in groups {
            for parameter in group.parameters {
                precondition(
                    membership.updateValue(group, forKey: ObjectIdentifier(parameter)) == nil,
                    "Adam: a parameter \(parameter.shape) is in two groups")
            }
        }
        self.parameters = parameters.filter(\.isTrainable)
        self.hyperparameters = AdamHyperparameters(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay)
        self.decouplesWeightDecay = decouplesWeightDecay
        self.moments = Array(repeating: nil, count: self.parameters.count)
        self.groupOf = self.parameters.map { membership[ObjectIdentifier($0)] }
    }

    /// The groups' parameters in group order, PyTorch's order, each with its group's settings.
    public convenience init(
        groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decouplesWeightDecay: Bool = false
    ) {
        self.init(
            groups.flatMap(\.parameters), groups: groups, learningRate: learningRate, beta1: beta1,
            beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            decouplesWeightDecay: decouplesWeightDecay)
    }

    /// The learning rate the next ``step()`` uses for `parameter`: its group's, else the
    /// optimizer's.
    public func learningRate(for parameter: Parameter) -> Float? {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return nil }
        return hyperparameters(at: index).learningRate
    }

    /// The weight decay the next ``step()`` uses for `parameter`.
    public func weightDecay(for parameter: Parameter) -> Float? {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return nil }
        return hyperparameters(at: index).weightDecay
    }

    private func hyperparameters(at index: Int) -> AdamHyperparameters {
        groupOf[index]?.hyperparameters(from: hyperparameters) ?? hyperparameters
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
                    "Adam: gradient \(gradient.shape) does not match parameter \(parameter.shape)")
                var state = moments[index] ?? AdamMoments(count: parameter.count)
                state.step += 1
                let update = AdamStep(
                    hyperparameters(at: index), step: state.step,
                    decouplesWeightDecay: decouplesWeightDecay)
                parameter.updateInPlace {
                    update.apply(to: $0, gradient: gradient.storage.pointer, moments: state)
                }
                moments[index] = state
            }
        }
        stepCount += 1
    }
}
