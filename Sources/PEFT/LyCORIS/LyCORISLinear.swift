import PEFTNN
import PEFTTensor

/// Adds a LyCORIS-family weight update to a frozen linear layer, as PEFT 0.21's LoHa and LoKr
/// layers do: `y = base(x) + x·ΔWᵀ`, with `ΔW` rebuilt from the adapter's factors at every call.
///
/// The base (an `nn.Linear`, or GPT-2's `Conv1D`, which PEFT does not wrap) stays under
/// `base_layer`. `ΔW` is always `[out, in]`; for a `Conv1D`, whose weight is stored `[in, out]`, a merge
/// adds its transpose. While training, `module_dropout` skips the update for a whole forward pass
/// and `rank_dropout` zeroes output rows of `ΔW` (LoHa rescales the kept rows by the mask's mean,
/// LoKr only with `rank_dropout_scale`); both follow the layer's training mode.
public final class LyCORISLinear<Adapter: LyCORISAdapter>: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name.
    public var adapters = AdapterSet<Adapter>()

    /// Wraps `base`, a `Linear` or a `Conv1D`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The base layer, then every adapter's two dropouts (no parameters; they make the masks).
    public override func namedChildren() -> [(key: String, module: Module)] {
        super.namedChildren()
            + adapters.all.flatMap { name, adapter in
                [
                    ("rank_dropout.\(name)", adapter.rankDropout as Module),
                    ("module_dropout.\(name)", adapter.moduleDropout),
                ]
            }
    }

    /// Every adapter's tensors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)` plus every active, unmerged adapter's `x·ΔWᵀ`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var output = base(x)
        let training = base.isTraining
        for (_, adapter) in adapters.running {
            if training, let keep = adapter.moduleDropout.nextMask(shape: [1]),
                keep.scalars[0] == 0
            {
                continue
            }
            let delta = adapter.delta()
            output = output + linear(x, weight: training ? droppingRanks(delta, adapter) : delta)
        }
        return output
    }

    /// `ΔW` with its output rows masked by rank dropout (when its probability is not zero).
    private func droppingRanks(_ delta: Tensor, _ adapter: Adapter) -> Tensor {
        guard let drawn = adapter.rankDropout.nextMask(shape: [delta.shape[0]]) else {
            return delta
        }
        var mask = drawn.scalars.map { $0 > 0 ? Float(1) : 0 }
        if adapter.scalesRankDropout {
            // PEFT divides by the mean, which is 0/0 when every row is dropped: then no row passes.
            let kept = mask.reduce(0, +)
            let factor = kept > 0 ? Float(mask.count) / kept : 0
            mask = mask.map { $0 * factor }
        }
        return delta * Tensor(shape: [mask.count, 1], scalars: mask)
    }

    /// The base weight and how it is laid out.
    var baseWeight: (parameter: Parameter, layout: LinearWeightLayout) {
        if let linear = base as? Linear { return (linear.$weight, .outputsByInputs) }
        if let conv = base as? Conv1D { return (conv.$weight, .inputsByOutputs) }
        preconditionFailure("LyCORISLinear: unsupported base layer \(type(of: base))")
    }

    /// `ΔW` in the base weight's layout, without dropout.
    func storedDelta(_ adapter: Adapter) -> Tensor {
        withoutGradients {
            let delta = adapter.delta()
            return baseWeight.layout == .outputsByInputs ? delta : delta.transposed()
        }
    }

    /// Adds `ΔW` to the base weight.
    public func mergeAdapter(_ adapter: Adapter, safe: Bool) throws {
        let weight = baseWeight.parameter
        let merged = withoutGradients { weight.value + storedDelta(adapter) }
        if safe { try checkFinite(merged, adapter: "\(Adapter.self)", layer: self) }
        weight.assign(merged)
    }

    /// Subtracts `ΔW` from the base weight again.
    public func unmergeAdapter(_ adapter: Adapter) throws {
        let weight = baseWeight.parameter
        weight.assign(withoutGradients { weight.value - storedDelta(adapter) })
    }
}
