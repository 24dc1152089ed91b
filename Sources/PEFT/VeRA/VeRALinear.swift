import PEFTNN
import PEFTTensor

/// Adds VeRA's update to a frozen linear layer (Kopiczko et al., 2024):
/// `y = base(x) + λ_b ⊙ B_s·(λ_d ⊙ A_s·dropout(x))`, where `A_s = A[:, :in]` and `B_s = B[:out, :]`
/// are slices of the adapter's shared frozen projections and only the vectors λ train.
///
/// The base (a `Linear` or GPT-2's `Conv1D`) stays under `base_layer`; each adapter's vectors are
/// `vera_lambda_b.<name>` (`[out]`) and `vera_lambda_d.<name>` (`[r]`) in the model and
/// `vera_lambda_b` / `vera_lambda_d` in PEFT's file.
public final class VeRALinear: Module, LinearAdapterLayer {
    /// The wrapped layer, key `base_layer`.
    @Child(key: "base_layer") public var base: any LinearLayer
    /// The adapters, by name.
    public var adapters = AdapterSet<VeRAVectors>()

    /// Wraps `base`.
    public init(wrapping base: any LinearLayer) {
        super.init()
        self.base = base
    }

    /// The base layer, then every adapter's dropout, keyed as PEFT keys them.
    public override func namedChildren() -> [(key: String, module: Module)] {
        super.namedChildren() + adapters.all.map { ("vera_dropout.\($0.name)", $0.adapter.dropout) }
    }

    /// Every adapter's vectors keyed as PEFT keys them in the model.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        modelParameters()
    }

    /// `base(x)` plus every active, unmerged adapter's update.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var output = base(x)
        for (_, vectors) in adapters.running {
            let down = vectors.projections.down(inputs: inputFeatures)
            let up = vectors.projections.up(outputs: outputFeatures)
            let hidden = linear(vectors.dropout(x), weight: down) * vectors.lambdaD.value
            output = output + linear(hidden, weight: up) * vectors.lambdaB.value
        }
        return output
    }

    /// The base weight and how it is laid out.
    var baseWeight: (parameter: Parameter, layout: LinearWeightLayout, bias: Parameter?) {
        if let linear = base as? Linear { return (linear.$weight, .outputsByInputs, linear.$bias) }
        if let conv = base as? Conv1D { return (conv.$weight, .inputsByOutputs, conv.$bias) }
        preconditionFailure("VeRALinear: unsupported base layer \(type(of: base))")
    }

    /// `ΔW = (λ_b·B_s)(λ_d·A_s)` in the base weight's layout.
    func delta(_ vectors: VeRAVectors) -> Tensor {
        withoutGradients {
            let down =
                vectors.projections.down(inputs: inputFeatures)
                * vectors.lambdaD.value.reshaped(to: [-1, 1])
            let up =
                vectors.projections.up(outputs: outputFeatures)
                * vectors.lambdaB.value.reshaped(to: [-1, 1])
            return baseWeight.layout == .outputsByInputs
                ? matmul(up, down) : matmul(down, up, transposingLeft: true, transposingRight: true)
        }
    }

    /// Adds `ΔW` to the base weight.
    public func mergeAdapter(_ vectors: VeRAVectors, safe: Bool) throws {
        let weight = baseWeight.parameter
        let merged = withoutGradients { weight.value + delta(vectors) }
        if safe { try checkFinite(merged, adapter: "VeRA", layer: self) }
        weight.assign(merged)
    }

    /// Subtracts `ΔW` from the base weight again.
    public func unmergeAdapter(_ vectors: VeRAVectors) throws {
        let weight = baseWeight.parameter
        weight.assign(withoutGradients { weight.value - delta(vectors) })
    }
}

/// One VeRA adapter inside a layer: its two trainable vectors, its input dropout, and the shared
/// projections it slices.
public final class VeRAVectors: AdapterTensors {
    /// `vera_lambda_b`, `[out]`: scales the update's outputs.
    public let lambdaB: Parameter
    /// `vera_lambda_d`, `[r]`: scales the rank dimension.
    public let lambdaD: Parameter
    /// Dropout on the adapter's input, a child of the layer (`vera_dropout.<name>`).
    public let dropout: Dropout
    /// The adapter's shared `vera_A` and `vera_B`.
    public let projections: VeRAProjections

    init(
        lambdaB: Tensor, lambdaD: Tensor, dropout: Float, seed: UInt64, projections: VeRAProjections
    ) {
        self.lambdaB = Parameter(lambdaB)
        self.lambdaD = Parameter(lambdaD)
        self.dropout = Dropout(probability: dropout, seed: seed)
        self.projections = projections
    }

    /// `vera_lambda_b` and `vera_lambda_d`.
    public var tensors: [(key: String, parameter: Parameter)] {
        [("vera_lambda_b", lambdaB), ("vera_lambda_d", lambdaD)]
    }
}
