import PEFTNN
import PEFTTensor

/// LoRA+ (Hayou et al., 2024): `B` learns `ratio` times faster than `A`, with the parameter groups of
/// PEFT's `create_loraplus_optimizer`.
///
/// ```swift
/// let optimizer = try LoRAPlus(ratio: 16).makeAdamW(for: model, learningRate: 2e-4)
/// ```
///
/// Of the trainable parameters:
///
/// | group | members | learning rate | weight decay |
/// |---|---|---|---|
/// | A | everything else | lr | `weightDecay` |
/// | embedding | the factors of a LoRA embedding | `embeddingLearningRate` | `weightDecay` |
/// | B | `lora_B` or one-dimensional (DoRA's magnitude, biases), decaying | lr·ratio | `weightDecay` |
/// | B, no decay | the same, not decaying | lr·ratio | 0 |
///
/// A parameter decays unless its path contains `bias` or it lies inside a ``LayerNorm``, as in
/// `transformers`' `get_parameter_names(model, ALL_LAYERNORM_LAYERS)`. Every group sets its own weight
/// decay, so the optimizer's own `weight_decay` has no effect, as in PEFT.
public struct LoRAPlus: Equatable, Sendable {
    /// `loraplus_lr_ratio`: B's learning rate over A's.
    public var ratio: Float
    /// `loraplus_lr_embedding`: the learning rate of LoRA embedding factors, absolute (scaled by a
    /// schedule as the others are).
    public var embeddingLearningRate: Float
    /// `loraplus_weight_decay`: the weight decay of every group but the non-decaying B group.
    public var weightDecay: Float

    /// LoRA+ with PEFT's defaults for the embedding learning rate and the weight decay.
    public init(ratio: Float, embeddingLearningRate: Float = 1e-6, weightDecay: Float = 0) {
        self.ratio = ratio
        self.embeddingLearningRate = embeddingLearningRate
        self.weightDecay = weightDecay
    }

    /// The trainable parameters of `model` in PEFT's four groups (A, embedding, B, B without decay),
    /// each in model order, for an optimizer whose learning rate is `learningRate`.
    ///
    /// - Throws: ``AdapterError/invalidConfiguration(key:reason:)`` naming `loraplus_lr_ratio`,
    ///   `loraplus_lr_embedding`, `loraplus_weight_decay` or `lr` when one is negative or not finite.
    public func parameterGroups(in model: Module, learningRate: Float) throws -> [ParameterGroup] {
        for (key, value) in [
            ("lr", learningRate), ("loraplus_lr_ratio", ratio),
            ("loraplus_lr_embedding", embeddingLearningRate),
            ("loraplus_weight_decay", weightDecay),
        ] where !(value >= 0 && value.isFinite) {
            throw AdapterError.invalidConfiguration(
                key: key, reason: "must be finite and at least 0, got \(value)")
        }
        guard learningRate > 0 || embeddingLearningRate == 0 else {
            throw AdapterError.invalidConfiguration(
                key: "lr", reason: "must be positive to scale loraplus_lr_embedding from it")
        }
        let modules = model.namedModules()
        var embeddingFactors = Set<ObjectIdentifier>()
        for case let embedding as LoRAEmbedding in modules.map(\.module) {
            for (_, factors) in embedding.adapters.all {
                embeddingFactors.insert(ObjectIdentifier(factors.down))
                embeddingFactors.insert(ObjectIdentifier(factors.up))
            }
        }
        let layerNorms = modules.filter { $0.module is LayerNorm && !$0.path.isEmpty }.map {
            $0.path + "."
        }
        var a: [Parameter] = []
        var embedding: [Parameter] = []
        var b: [Parameter] = []
        var bWithoutDecay: [Parameter] = []
        for (path, parameter) in model.namedParameters() where parameter.isTrainable {
            if embeddingFactors.contains(ObjectIdentifier(parameter)) {
                embedding.append(parameter)
            } else if path.contains("lora_B") || parameter.shape.count == 1 {
                let decays = !path.contains("bias") && !layerNorms.contains { path.hasPrefix($0) }
                if decays { b.append(parameter) } else { bWithoutDecay.append(parameter) }
            } else {
                a.append(parameter)
            }
        }
        let embeddingScale = learningRate > 0 ? embeddingLearningRate / learningRate : 0
        guard embeddingScale.isFinite, (learningRate * ratio).isFinite else {
            throw AdapterError.invalidConfiguration(
                key: "lr",
                reason: "\(learningRate) is too small or too large to scale the groups from")
        }
        return [
            ParameterGroup(a, weightDecay: weightDecay),
            ParameterGroup(embedding, learningRateScale: embeddingScale, weightDecay: weightDecay),
            ParameterGroup(b, learningRateScale: ratio, weightDecay: weightDecay),
            ParameterGroup(bWithoutDecay, learningRateScale: ratio, weightDecay: 0),
        ]
    }

    /// AdamW over the trainable parameters of `model`, in model order, with LoRA+'s groups.
    public func makeAdamW(
        for model: Module, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8
    ) throws -> AdamW {
        let groups = try parameterGroups(in: model, learningRate: learningRate)
        return AdamW(
            model.namedParameters().map(\.parameter).filter(\.isTrainable), groups: groups,
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay)
    }
}
