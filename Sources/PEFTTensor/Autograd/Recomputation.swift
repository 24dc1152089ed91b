/// Runs `body` on `x` keeping none of its intermediate activations: backward runs `body` again, with
/// gradients on, and back-propagates through that replay (gradient checkpointing).
///
/// Forward keeps only `x` and the result, so a checkpointed transformer block costs `[B, T, C]` of
/// saved memory instead of all its activations, for about one more forward pass of compute. Parameters
/// used inside `body` receive their gradients during the replay. `body` must compute the same values
/// when run again: `beforeReplay` runs first and restores whatever randomness it draws (dropout
/// masks). Tensors that need gradients may enter `body` only through `x`; one captured from outside
/// would join the replay's graph and be consumed twice.
public func recomputedInBackward(
    _ x: Tensor, beforeReplay: @escaping () -> Void = {}, _ body: @escaping (Tensor) -> Tensor
) -> Tensor {
    guard GradientMode.isEnabled else { return body(x) }
    let output = withoutGradients { body(x.detached()) }
    let input = x.detached()
    let needsInputGradient = x.requiresGradient
    var recorded = output
    recorded.node = AutogradNode(shape: output.shape, inputs: [x.node]) { gradient in
        beforeReplay()
        let leaf = needsInputGradient ? input.requiringGradient() : input
        let replayed = GradientMode.$recording.withValue(true) { body(leaf) }
        precondition(
            replayed.shape == gradient.shape,
            "recomputedInBackward: the replay gave \(replayed.shape), forward \(gradient.shape)")
        if replayed.requiresGradient { replayed.backward(gradient) }
        return [needsInputGradient ? leaf.gradient : nil]
    }
    return recorded
}
