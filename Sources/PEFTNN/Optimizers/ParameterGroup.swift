/// Some of an optimizer's parameters with their own learning rate and weight decay, as a PyTorch
/// parameter group (`{"params": [...], "lr": ..., "weight_decay": ...}`).
///
/// The learning rate is a multiple of the optimizer's ``Optimizer/learningRate``, so a schedule that
/// sets the optimizer's rate scales every group alike, as PyTorch's `LambdaLR` scales each group's
/// initial rate.
public struct ParameterGroup {
    /// The group's parameters.
    public var parameters: [Parameter]
    /// The group's learning rate divided by the optimizer's.
    public var learningRateScale: Float
    /// The group's weight decay λ, or `nil` for the optimizer's.
    public var weightDecay: Float?

    /// A group whose learning rate is `learningRateScale` times the optimizer's.
    public init(_ parameters: [Parameter], learningRateScale: Float = 1, weightDecay: Float? = nil)
    {
        precondition(
            learningRateScale >= 0 && learningRateScale.isFinite,
            "ParameterGroup: learning rate scale \(learningRateScale) is not finite and >= 0")
        precondition(
            weightDecay.map { $0 >= 0 && $0.isFinite } ?? true,
            "ParameterGroup: weight decay \(weightDecay!) is not finite and >= 0")
        self.parameters = parameters
        self.learningRateScale = learningRateScale
        self.weightDecay = weightDecay
    }

    /// The hyperparameters for this group's parameters, from the optimizer's.
    func hyperparameters(from base: AdamHyperparameters) -> AdamHyperparameters {
        var result = base
        result.learningRate = Float(Double(base.learningRate) * Double(learningRateScale))
        if let weightDecay { result.weightDecay = weightDecay }
        return result
    }
}
