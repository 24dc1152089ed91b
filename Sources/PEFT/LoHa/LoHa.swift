import PEFTNN
import PEFTTensor

/// A LoHa layer: ``LyCORISLinear`` carrying ``LoHaFactors``.
public typealias LoHaLinear = LyCORISLinear<LoHaFactors>

/// Low-rank Hadamard product adaptation (LoHa, from LyCORIS), as PEFT 0.21 implements it: every
/// targeted linear layer gains `ΔW = (alpha / r)·(W₁ₐ·W₁ᵦ) ⊙ (W₂ₐ·W₂ᵦ)`, whose rank can reach r²
/// with the parameters of two rank-r pairs.
///
/// PEFT wraps `nn.Linear` (and convolutions, which this library does not have); this library also
/// wraps GPT-2's `Conv1D`, which PEFT refuses, so such an adapter does not load in Python.
public enum LoHa: PEFTMethod {
    /// Wraps every targeted layer in ``LoHaLinear`` and adds the adapter's factors to it.
    public static func apply(_ configuration: inout LoHaConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        let snapshot = configuration
        try LoHaLinear.apply(
            &configuration.settings, peftType: LoHaConfiguration.peftType, in: context
        ) { target in
            LoHaFactors(
                target: target, configuration: snapshot,
                seed: context.seed(for: target.path, purpose: "loha"))
        }
        return .none
    }

    /// LoHa's update folds into the base weights.
    public static var mergesIntoBase: Bool { true }
}
