import PEFTNN
import PEFTTensor

/// Adds AdaLoRA's SVD-form update to a frozen linear layer (Zhang et al., 2023), as PEFT 0.21's
/// `SVDLinear` does: `y = base(x) + dropout(x)·(A ⊙ E)ᵀ·Bᵀ · scaling / (ranknum + 1e-5)`.
///
/// The base (a `Linear` or GPT-2's `Conv1D`) stays under `base_layer`; each adapter's tensors are
/// `lora_A.<name>`, `lora_B.<name>` and `lora_E.<name>` in the model and `lora_A`, `lora_B`,
/// `lora_E` in PEFT's file. With one active adapter and no dropout the forward pass is one fused node
/// (`lowRankLinear` with `A ⊙ E` as the down projection).
public final class AdaLoRALinear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name.
    public var adapters = AdapterSet<AdaLoRATriplets>()

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The base layer, then every adapter's dropout, keyed as PEFT keys them.
    public override func namedChildren() -> [(key: String, module: Module)] {
        super.namedChildren() + adapters.all.map { ("lora_dropout.\($0.name)", $0.adapter.dropout) }
    }

    /// Every adapter's tensors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// The base weight and how it is laid out.
    var baseWeight: (parameter: Parameter, layout: LinearWeightLayout, bias: Parameter?) {
        if let linear = base as? Linear { return (linear.$weight, .outputsByInputs, linear.$bias) }
        if let conv = base as? Conv1D { return (conv.$weight, .inputsByOutputs, conv.$bias) }
        preconditionFailure("AdaLoRALinear: unsupported base layer \(type(of: base))")
    }

    /// `base(x)` plus every active, unmerged adapter's update; a rank-0 adapter adds nothing.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let running = adapters.running.map(\.adapter).filter { $0.rank > 0 }
        let (weight, layout, bias) = baseWeight
        if running.count == 1, let only = running.first,
            only.dropout.probability == 0 || !isTraining
        {
            return lowRankLinear(
                x, weight: weight.value, bias: bias?.value, layout: layout,
                down: only.scaledDown(), up: only.up.value, scale: only.factor)
        }
        var output = base(x)
        for triplets in running {
            let hidden = linear(triplets.dropout(x), weight: triplets.scaledDown())
            output = output + linear(hidden, weight: triplets.up.value) * triplets.factor
        }
        return output
    }

    /// `ΔW` in the base weight's layout.
    func delta(_ triplets: AdaLoRATriplets) -> Tensor {
        let delta = triplets.delta()
        return baseWeight.layout == .outputsByInputs
            ? delta : withoutGradients { delta.transposed() }
    }

    /// Adds `ΔW = B·(A ⊙ E)·s` to the base weight.
    public func mergeAdapter(_ triplets: AdaLoRATriplets, safe: Bool) throws {
        guard triplets.rank > 0 else { return }
        let weight = baseWeight.parameter
        let merged = withoutGradients { weight.value + delta(triplets) }
        if safe { try checkFinite(merged, adapter: "AdaLoRA", layer: self) }
        weight.assign(merged)
    }

    /// Subtracts `ΔW` from the base weight again.
    public func unmergeAdapter(_ triplets: AdaLoRATriplets) throws {
        guard triplets.rank > 0 else { return }
        let weight = baseWeight.parameter
        weight.assign(withoutGradients { weight.value - delta(triplets) })
    }
}
