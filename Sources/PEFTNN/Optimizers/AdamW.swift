/// Adam with decoupled weight decay, as `torch.optim.AdamW` computes it.
///
/// Before each Adam update the parameter shrinks by `p ← p·(1 − lr·λ)`, so weight decay does not
/// pass through the moments and acts the same on every parameter whatever its gradient scale.
public final class AdamW: Adam {
    /// Creates an optimizer for the trainable ones among `parameters`, with PyTorch's defaults.
    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) {
        super.init(
            parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decouplesWeightDecay: true)
    }

    /// Creates an optimizer for the trainable ones among `parameters`, in that order, each with the
    /// learning rate and weight decay of its group, as
    /// ``Adam/init(_:groups:learningRate:beta1:beta2:epsilon:weightDecay:decouplesWeightDecay:)``.
    public init(
        _ parameters: [Parameter], groups: [ParameterGroup], learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) {
        super.init(
            parameters, groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2,
            epsilon: epsilon, weightDecay: weightDecay, decouplesWeightDecay: true)
    }

    /// The groups' parameters in group order, PyTorch's order, each with its group's settings.
    public convenience init(
        groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) {
        self.init(
            groups.flatMap(\.parameters), groups: groups, learningRate: learningRate, beta1: beta1,
            beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }
}
