import ArgumentParser
import PEFTTraining

/// The command-line options the two example executables share; each adds its own model, data, target
/// and output options, whose defaults differ.
public struct FineTuningOptions: ParsableArguments {
    /// What trains.
    @Option(
        help:
            "What trains: lora, full, prompt, ptuning, prefix, ia3, adapter, bitfit, selective or none."
    )
    public var method: TrainingMethod = .lora

    /// Virtual tokens or prefix positions for the prompt methods.
    @Option(help: "Virtual tokens (prompt, ptuning) or prefix positions (prefix).")
    public var virtualTokens = 10

    /// Fine-tuning steps.
    @Option(help: "Fine-tuning steps.")
    public var steps = 600

    /// Examples per step.
    @Option(help: "Examples per step.")
    public var batchSize = 16

    /// LoRA rank.
    @Option(help: "LoRA rank.")
    public var rank = 8

    /// LoRA alpha, when given; see ``loraAlpha``.
    @Option(help: "LoRA alpha; the update is scaled by alpha / rank (default: 2 × rank).")
    public var alpha: Float?

    /// LoRA alpha: `--alpha`, or twice `--rank` without it.
    public var loraAlpha: Float { alpha ?? TrainingMethod.defaultAlpha(rank: rank) }

    /// The seed of the data, the adapter and the batch order.
    @Option(help: "Seeds the fine-tuning data, the adapter and the batch order.")
    public var seed: UInt64 = 0

    /// How often the held-out loss is evaluated.
    @Option(help: "Evaluate the held-out loss every this many steps.")
    public var evalEvery = 50

    /// Pre-training steps of the example's own base.
    @Option(help: "Pre-training steps of the example's own base model.")
    public var baseSteps: Int?

    /// A quick check with a handful of steps.
    @Flag(help: "A handful of steps everywhere, on a tiny base: a check that finishes in seconds.")
    public var smoke = false

    /// Options with their defaults.
    public init() {}
}
