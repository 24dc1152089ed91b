/// Whether operations record autograd nodes in the current task or thread.
///
/// Recording is on by default. Inference and optimizer updates run inside ``withoutGradients(_:)``,
/// where no op records anything, so no activation is kept alive for a backward pass that never comes.
public enum GradientMode {
    @TaskLocal static var recording = true

    /// `true` when operations record autograd nodes.
    public static var isEnabled: Bool { recording }
}

/// Runs `body` with gradient recording off, as PyTorch's `torch.no_grad()` does.
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientMode.$recording.withValue(false, operation: body)
}
