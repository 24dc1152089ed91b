/// The learning rate, decay rates, ε and weight decay of the Adam family, checked when created and
/// saved in a state file's metadata under PyTorch's names.
///
/// Whether the weight decay is added to the gradient (``Adam``) or shrinks the parameter directly
/// (``AdamW``) is up to the optimizer.
public struct AdamHyperparameters: Equatable, Sendable {
    /// The step size, lr.
    public var learningRate: Float
    /// The decay rate of the gradient's moving average, β₁.
    public var beta1: Float
    /// The decay rate of the squared gradient's moving average, β₂.
    public var beta2: Float
    /// Added to the denominator for numerical stability, ε.
    public var epsilon: Float
    /// The weight decay factor, λ.
    public var weightDecay: Float

    /// Creates the hyperparameters, with PyTorch's defaults.
    ///
    /// - Precondition: The decay rates are in `[0, 1)`; the others are finite and not negative.
    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        for field in Self.fields where !field.range.contains(self[keyPath: field.value]) {
            preconditionFailure(
                "AdamHyperparameters: \(field.key) \(self[keyPath: field.value]) is not in "
                    + "\(field.range)")
        }
    }

    /// The values as state-file metadata: `lr`, `beta1`, `beta2`, `eps` and `weight_decay`.
    public var metadata: [String: String] {
        Dictionary(
            uniqueKeysWithValues: Self.fields.map { ($0.key, "\(self[keyPath: $0.value])") })
    }

    /// Reads the values that ``metadata`` saved in `file`.
    ///
    /// - Throws: ``OptimizerStateError`` if a value is missing, not a number, or out of range.
    package init(from file: OptimizerStateReader) throws(OptimizerStateError) {
        self.init()
        for field in Self.fields {
            self[keyPath: field.value] = try file.value(field.key) {
                Float($0).flatMap { field.range.contains($0) ? $0 : nil }
            }
        }
    }

    /// Each value's metadata key (PyTorch's name) and the range it must lie in; one list, so
    /// checking, saving and loading cannot disagree.
    private static var fields:
        [(key: String, value: WritableKeyPath<Self, Float>, range: Range<Float>)]
    {
        [
            ("lr", \.learningRate, 0 ..< .infinity),
            ("beta1", \.beta1, 0..<1),
            ("beta2", \.beta2, 0..<1),
            ("eps", \.epsilon, 0 ..< .infinity),
            ("weight_decay", \.weightDecay, 0 ..< .infinity),
        ]
    }
}
