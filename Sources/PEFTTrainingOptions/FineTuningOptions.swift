import ArgumentParser
import Foundation
import PEFTTraining

/// The command-line options the two example executables share; each adds its own model, data and
/// target options, whose meaning or defaults differ.
public struct FineTuningOptions: ParsableArguments {
    /// Where the example's own base model is cached; see ``baseModelPath(example:)``.
    @Option(
        help:
            "Where the example's own base model is cached (default .peft-cache/gpt-base or t5-base)."
    )
    public var cache: String?

    /// Where the trained result goes; see ``outputPath(example:)``.
    @Option(
        help:
            "Where the adapter (or the fully fine-tuned model) goes (default .peft-cache/gpt-adapter or t5-adapter)."
    )
    public var out: String?

    /// What trains.
    @Option(
        help:
            "What trains: lora, full, prompt, ptuning, prefix, ia3, vera, oft, loha, lokr, adalora, adapter, bitfit, selective or none."
    )
    public var method: TrainingMethod = .lora

    /// Virtual tokens or prefix positions for the prompt methods.
    @Option(help: "Virtual tokens (prompt, ptuning) or prefix positions (prefix).")
    public var virtualTokens = 10

    /// The peak learning rate, when given; see ``peakLearningRate``.
    @Option(
        name: .customLong("lr"),
        help: "Peak learning rate (default: the method's: 3e-3 for lora, 5e-4 for full, ...).")
    public var learningRate: Float?

    /// The peak learning rate: `--lr`, or the method's default without it.
    public var peakLearningRate: Float { learningRate ?? method.defaultLearningRate }

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

    /// How the frozen base's weight matrices are stored while the method trains.
    @Option(
        name: .customLong("base-dtype"),
        help:
            "How the frozen base's weight matrices are stored: fp32, bf16, int8 or nf4 (QLoRA). Not with full, bitfit or selective, which train the base itself."
    )
    public var baseFormat: FrozenWeightFormat = .fp32

    /// Refuses a low-precision base under a method that trains the base's own tensors.
    public func validate() throws {
        if baseFormat != .fp32 && [.full, .bitfit, .selective].contains(method) {
            throw ValidationError(
                "--base-dtype \(baseFormat.rawValue): --method \(method.rawValue) trains the base's own weights, which a low-precision base keeps frozen"
            )
        }
    }

    /// Options with their defaults.
    public init() {}

    /// With `--smoke`, 4 steps of 4 examples, evaluating every 2; otherwise nothing changes.
    public mutating func applySmokeSizes() {
        if smoke { (steps, batchSize, evalEvery) = (4, 4, 2) }
    }

    /// The method applied to `base` with these options, LoRA on `targets` (`nil`: the family's
    /// default); or with
    /// `resumingFrom`, the result saved there loaded onto `base`. `select` chooses the weights of
    /// selective tuning.
    public func prepare(
        _ base: some AdaptableModel, targets: [String]?, resumingFrom folder: URL? = nil,
        select: (() throws -> ParameterSelection)? = nil
    ) throws -> PreparedModel {
        try PreparedModel(
            base: base, method: method, rank: rank, alpha: loraAlpha, targets: targets,
            virtualTokens: virtualTokens, totalSteps: steps, resumingFrom: folder, select: select)
    }

    /// `--cache`, or `.peft-cache/<example>-base` (`-smoke` appended with `--smoke`, so that a
    /// smoke run never replaces a real run's files).
    public func baseModelPath(example: String) -> String {
        cache ?? Self.cachePath("\(example)-base", smoke: smoke)
    }

    /// `--out`, or `.peft-cache/<example>-adapter` for LoRA and `.peft-cache/<example>-<method>`
    /// for the others (`-smoke` appended with `--smoke`).
    public func outputPath(example: String) -> String {
        out
            ?? Self.cachePath(
                "\(example)-\(method == .lora ? "adapter" : method.rawValue)", smoke: smoke)
    }

    private static func cachePath(_ name: String, smoke: Bool) -> String {
        ".peft-cache/\(name)\(smoke ? "-smoke" : "")"
    }
}

/// `--base-dtype fp32|bf16|int8|nf4`.
extension FrozenWeightFormat: ExpressibleByArgument {}
