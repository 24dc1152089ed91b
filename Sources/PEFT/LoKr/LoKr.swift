import PEFTNN
import PEFTTensor

/// A LoKr layer: ``LyCORISLinear`` carrying ``LoKrFactors``.
public typealias LoKrLinear = LyCORISLinear<LoKrFactors>

/// Low-rank Kronecker product adaptation (LoKr, from LyCORIS), as PEFT 0.21 implements it: every
/// targeted linear layer gains `ΔW = (alpha / r)·(w1 ⊗ w2)`, the two factors sized by PEFT's
/// factorisation of the layer's widths and the larger one (or both) stored as a rank-r product.
///
/// PEFT wraps `nn.Linear` (and convolutions, which this library does not have); this library also
/// wraps GPT-2's `Conv1D`, which PEFT refuses, so such an adapter does not load in Python.
public enum LoKr: PEFTMethod {
    /// Wraps every targeted layer in ``LoKrLinear`` and adds the adapter's factors to it.
    public static func apply(_ configuration: inout LoKrConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        let snapshot = configuration
        try LoKrLinear.apply(
            &configuration.settings, peftType: LoKrConfiguration.peftType, in: context
        ) { target in
            LoKrFactors(
                target: target, configuration: snapshot,
                seed: context.seed(for: target.path, purpose: "lokr"))
        }
        return .none
    }

    /// LoKr's update folds into the base weights.
    public static var mergesIntoBase: Bool { true }
}
