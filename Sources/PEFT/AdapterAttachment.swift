import PEFTNN

/// What an adapter keeps beside the model rather than inside its layers.
public struct AdapterAttachment {
    /// The module that makes a prompt-learning adapter's virtual tokens or prefixes; the container runs
    /// the model's inputs through it.
    public var promptEncoder: (any PromptLearningEncoder)?
    /// Frozen tensors that all of the adapter's layers share (VeRA's random projections). The container
    /// keeps it for the adapter's lifetime, switches its mode with the model's, counts it in the
    /// parameter summary, and saves its parameters under their own paths in
    /// `adapter_model.safetensors`.
    public var sharedModule: Module?

    /// An attachment with either part, or neither.
    public init(promptEncoder: (any PromptLearningEncoder)? = nil, sharedModule: Module? = nil) {
        self.promptEncoder = promptEncoder
        self.sharedModule = sharedModule
    }

    /// Nothing beside the model: the adapter lives in its layers alone.
    public static var none: AdapterAttachment { AdapterAttachment() }
}

/// A shared module whose adapter changes the base model's own weights (a selective delta) rather than
/// adding layers; the container takes the change out when adapters are switched off, another adapter
/// becomes active or the adapter is deleted, and puts it back.
public protocol BaseWeightEdit: Module {
    /// Whether the change is in the base weights now.
    var isApplied: Bool { get }
    /// Puts the change in (`true`) or restores the original values (`false`).
    func setApplied(_ applied: Bool)
}
