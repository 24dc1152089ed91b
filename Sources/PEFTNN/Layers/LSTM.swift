import PEFTTensor

/// A multi-layer LSTM over one sequence, optionally bidirectional, with PyTorch's parameter names
/// (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, and `_reverse` for the backward pass).
///
/// Gates are PyTorch's, in its row order i, f, g, o: `c' = f·c + i·g`, `h' = o·tanh(c')`. It is written
/// with differentiable ops step by step, which suits the short sequences it serves (P-tuning's virtual
/// tokens); each step's input projection is computed for the whole sequence in one GEMM.
public final class LSTM: Module {
    /// The hidden size, H.
    public let hiddenSize: Int
    /// The number of stacked layers.
    public let layerCount: Int
    /// Whether a second pass runs from the end, its states concatenated to the first's.
    public let isBidirectional: Bool
    private var weights: [(key: String, parameter: Parameter)] = []
    private let dropout: Dropout

    /// Creates the layers with PyTorch's initialisation: every weight uniform in `±1/√H`.
    public init(
        inputSize: Int, hiddenSize: Int, layerCount: Int = 1, isBidirectional: Bool = false,
        dropout: Float = 0,
        using generator: inout RandomGenerator
    ) {
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.isBidirectional = isBidirectional
        self.dropout = Dropout(probability: dropout)
        super.init()
        let bound = 1 / Float(hiddenSize).squareRoot()
        for layer in 0..<layerCount {
            let input = layer == 0 ? inputSize : hiddenSize * (isBidirectional ? 2 : 1)
            for suffix in isBidirectional ? ["", "_reverse"] : [""] {
                for (name, shape) in [
                    ("weight_ih", [4 * hiddenSize, input]),
                    ("weight_hh", [4 * hiddenSize, hiddenSize]),
                    ("bias_ih", [4 * hiddenSize]), ("bias_hh", [4 * hiddenSize]),
                ] {
                    let value = Tensor.uniform(shape, in: -bound..<bound, using: &generator)
                    weights.append(("\(name)_l\(layer)\(suffix)", Parameter(value)))
                }
            }
        }
    }

    /// The weights with PyTorch's keys.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        weights
    }

    private func weight(_ name: String) -> Tensor {
        weights.first { $0.key == name }!.parameter.value
    }

    /// Runs the sequence `[T, inputSize]`; returns `[T, H]`, or `[T, 2H]` when bidirectional.
    public func callAsFunction(_ sequence: Tensor) -> Tensor {
        var input = sequence
        for layer in 0..<layerCount {
            if layer > 0 { input = dropout(input) }
            var outputs = [run(input, layer: layer, suffix: "", reversed: false)]
            if isBidirectional {
                outputs.append(run(input, layer: layer, suffix: "_reverse", reversed: true))
            }
            input = outputs.count == 1 ? outputs[0] : concatenate(outputs, alongAxis: 1)
        }
        return input
    }

    private func run(_ input: Tensor, layer: Int, suffix: String, reversed: Bool) -> Tensor {
        let length = input.shape[0]
        let projected = linear(
            input, weight: weight("weight_ih_l\(layer)\(suffix)"),
            bias: weight("bias_ih_l\(layer)\(suffix)"))
        let recurrent = weight("weight_hh_l\(layer)\(suffix)")
        let recurrentBias = weight("bias_hh_l\(layer)\(suffix)")
        var hidden = Tensor.zeros([1, hiddenSize])
        var cell = Tensor.zeros([1, hiddenSize])
        var states = [Tensor?](repeating: nil, count: length)
        for step in reversed ? Array((0..<length).reversed()) : Array(0..<length) {
            let gates =
                projected.narrowed(alongAxis: 0, start: step, length: 1)
                + linear(hidden, weight: recurrent, bias: recurrentBias)
            let parts = gates.split(
                sizes: [hiddenSize, hiddenSize, hiddenSize, hiddenSize], alongAxis: 1)
            cell = sigmoid(parts[1]) * cell + sigmoid(parts[0]) * tanh(parts[2])
            hidden = sigmoid(parts[3]) * tanh(cell)
            states[step] = hidden
        }
        return concatenate(states.map { $0! }, alongAxis: 0)
    }
}
