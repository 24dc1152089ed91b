import PEFTNN
import PEFTTensor

/// The SwiGLU feed-forward of the Llama family: `down_proj(act(gate_proj(x)) ⊙ up_proj(x))`.
public final class LlamaMLP: Module, UnaryLayer {
    /// The gate branch `[C] → [I]`, key `gate_proj`.
    @Child(key: "gate_proj") public var gate: any LinearLayer
    /// The linear branch `[C] → [I]`, key `up_proj`.
    @Child(key: "up_proj") public var up: any LinearLayer
    /// The projection back `[I] → [C]`, key `down_proj`.
    @Child(key: "down_proj") public var down: any LinearLayer
    /// The gate's non-linearity (`hidden_act`, SiLU).
    public let activation: Activation

    /// Creates the block with Hugging Face's initialisation for `configuration`.
    public init(configuration: LlamaConfiguration, using generator: inout RandomGenerator) {
        activation = Activation(huggingFaceName: configuration.hiddenActivation) ?? .silu
        super.init()
        let (width, inner) = (configuration.hiddenSize, configuration.intermediateSize)
        func projection(_ inputs: Int, _ outputs: Int) -> Linear {
            Linear(
                weight: Tensor.normal(
                    [outputs, inputs], standardDeviation: configuration.initializerRange,
                    using: &generator),
                bias: configuration.hasFeedForwardBias ? Tensor.zeros([outputs]) : nil)
        }
        gate = projection(width, inner)
        up = projection(width, inner)
        down = projection(inner, width)
    }

    /// Applies the block to `[..., C]`; SiLU's gated product is one fused op.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if activation == .silu { return down(siluGated(gate(x), up(x))) }
        return down(activation(gate(x)) * up(x))
    }
}
