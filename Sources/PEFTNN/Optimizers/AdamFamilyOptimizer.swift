/// An optimizer that runs ``AdamStep`` under one ``AdamHyperparameters`` value and keeps
/// ``AdamMoments`` for each parameter from its first gradient on.
///
/// Conformers get the learning rate, the state size and ``Optimizer/hasState(for:)`` from
/// ``hyperparameters`` and ``moments``.
public protocol AdamFamilyOptimizer: Optimizer {
    /// The learning rate, decay rates, ε and weight decay used by the next ``Optimizer/step()``.
    var hyperparameters: AdamHyperparameters { get set }

    /// The moments of `parameters[i]`, or `nil` before its first gradient.
    var moments: [AdamMoments?] { get }
}

extension AdamFamilyOptimizer {
    /// The step size used by the next ``Optimizer/step()``.
    public var learningRate: Float {
        get { hyperparameters.learningRate }
        set { hyperparameters.learningRate = newValue }
    }

    /// The number of moment values held: two per updated element of each parameter that has taken
    /// a step.
    public var stateElementCount: Int {
        moments.reduce(0) { $0 + ($1?.elementCount ?? 0) }
    }

    /// Whether the optimizer holds moments for `parameter`.
    public func hasState(for parameter: Parameter) -> Bool {
        guard let index = parameters.firstIndex(where: { $0 === parameter }) else { return false }
        return moments[index] != nil
    }
}
