import PEFTNN
import PEFTTensor

/// Adds trainable low-rank updates to a frozen linear layer: `y = base(x) + Σ s·B·A·dropout(x)`.
///
/// The base (a `Linear` or GPT-2's `Conv1D`) stays under the key `base_layer`, each adapter's factors
/// under `lora_A.<name>` and `lora_B.<name>` and its dropout under `lora_dropout.<name>`, as in PEFT, so
/// the saved keys (`c_attn.lora_A.weight`) are PEFT's with the adapter name left out. With one active
/// plain adapter and no dropout the forward pass is a single fused node (`lowRankLinear`).
public final class LoRALinear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name.
    public var adapters = AdapterSet<LoRAFactors>()
    /// The row → adapter assignment of a mixed-adapter call in progress (``RowAdapterSelecting``).
    public var rowAssignment: AdapterRowAssignment?

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The base weight and how it is laid out.
    var baseWeight: (parameter: Parameter, layout: LinearWeightLayout, bias: Parameter?) {
        if let linear = base as? Linear { return (linear.$weight, .outputsByInputs, linear.$bias) }
        if let conv = base as? Conv1D { return (conv.$weight, .inputsByOutputs, conv.$bias) }
        preconditionFailure("LoRALinear: unsupported base layer \(type(of: base))")
    }

    /// The base weight as `[out, in]`.
    func baseWeightOutputsByInputs() -> Tensor {
        let (weight, layout, _) = baseWeight
        return layout == .outputsByInputs
            ? weight.value.detached() : withoutGradients { weight.value.transposed() }
    }

    /// The base layer, then every adapter's dropout, keyed as PEFT keys them.
    public override func namedChildren() -> [(key: String, module: Module)] {
        super.namedChildren() + adapters.all.map { ("lora_dropout.\($0.name)", $0.adapter.dropout) }
    }

    /// Every adapter's factors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)` plus every active, unmerged adapter's update.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let rowAssignment { return mixedForward(x, rowAssignment) }
        let running = adapters.running.map(\.adapter)
        let (weight, layout, bias) = baseWeight
        // The fused kernel reads the weight in Float32; a low-precision base goes through its own
        // panel GEMM instead, so no Float32 copy of the weight is made.
        if running.count == 1, let only = running.first, only.magnitude == nil,
            only.dropout.probability == 0 || !isTraining, weight.lowPrecision == nil
        {
            return lowRankLinear(
                x, weight: weight.value, bias: bias?.value, layout: layout, down: only.down.value,
                up: only.up.value,
                scale: only.scaling)
        }
        var output = base(x)
        let region = OperationProfiler.enter(.lora)
        defer { region.end() }
        for factors in running {
            let input = factors.dropout(x)
            if let magnitude = factors.magnitude {
                output =
                    output
                    + doraUpdate(
                        input, baseOutput: output, factors: factors, magnitude: magnitude.value)
            } else {
                output =
                    output + linear(
                        linear(input, weight: factors.down.value), weight: factors.up.value)
                    * factors.scaling
            }
        }
        return output
    }

    /// DoRA's addition to the base output: `(m/‖W + sBA‖ − 1)·(x·Wᵀ) + (m/‖W + sBA‖)·s·B·A·x`, the norm
    /// taken per output row and detached, as the DoRA paper and PEFT compute it.
    func doraUpdate(_ x: Tensor, baseOutput: Tensor, factors: LoRAFactors, magnitude: Tensor)
        -> Tensor
    {
        let norms = withoutGradients { rowNorms(baseWeightOutputsByInputs() + factors.delta()) }
        let scale = magnitude / norms
        let baseWithoutBias = baseProductWithoutBias(x)
        let update = linear(linear(x, weight: factors.down.value), weight: factors.up.value)
        return (scale - 1) * baseWithoutBias + scale * update * factors.scaling
    }
}

extension LoRALinear {
    /// `x·Wᵀ` without the bias, from the base weight as it is stored (low-precision or not).
    func baseProductWithoutBias(_ x: Tensor) -> Tensor {
        let (weight, layout, _) = baseWeight
        if let stored = weight.lowPrecision {
            return linear(x, lowPrecisionWeight: stored, layout: layout)
        }
        return linear(x, weight: weight.value, layout: layout)
    }
}

/// The Euclidean norm of each row of a matrix.
func rowNorms(_ matrix: Tensor) -> Tensor {
    sqrt((matrix * matrix).sum(alongAxis: 1))
}
