import PEFTTensor

/// An elementwise non-linearity, named as Hugging Face configs name it.
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// `max(x, 0)`.
    case relu
    /// The exact GELU (erf).
    case gelu
    /// GPT-2's tanh approximation of GELU.
    case geluNew = "gelu_new"
    /// SiLU, also called swish.
    case silu
    /// The hyperbolic tangent.
    case tanh

    /// Reads a Hugging Face activation name, accepting the common aliases.
    public init?(huggingFaceName name: String) {
        switch name {
        case "relu": self = .relu
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh": self = .geluNew
        case "silu", "swish": self = .silu
        case "tanh": self = .tanh
        default: return nil
        }
    }

    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: PEFTTensor.relu(x)
        case .gelu: PEFTTensor.gelu(x)
        case .geluNew: geluTanh(x)
        case .silu: PEFTTensor.silu(x)
        case .tanh: PEFTTensor.tanh(x)
        }
    }
}
