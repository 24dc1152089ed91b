import PEFTTensor

/// A layer that maps one tensor to another, which is what ``Sequential`` chains.
public protocol UnaryLayer: Module {
    /// Applies the layer.
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Linear: UnaryLayer {}
extension Conv1D: UnaryLayer {}
extension LayerNorm: UnaryLayer {}
extension RMSNorm: UnaryLayer {}
extension Dropout: UnaryLayer {}
extension GPT2MLP: UnaryLayer {}
extension T5DenseActDense: UnaryLayer {}
extension T5DenseGatedActDense: UnaryLayer {}

/// An activation as a layer, so it can sit in a ``Sequential``.
public final class ActivationLayer: Module, UnaryLayer {
    /// The function applied.
    public let activation: Activation

    /// Wraps `activation`.
    public init(_ activation: Activation) {
        self.activation = activation
        super.init()
    }

    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) -> Tensor { activation(x) }
}

/// Layers applied one after another, keyed `0`, `1`, ... as PyTorch's `nn.Sequential`.
public final class Sequential: Module, UnaryLayer {
    /// The layers, in order.
    public private(set) var layers: [any UnaryLayer]

    /// Chains `layers`.
    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    /// Applies every layer in turn.
    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }

    /// The layers keyed by position.
    public override func namedChildren() -> [(key: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// Replaces the layer at position `key` with another unary layer.
    public override func replaceChild(key: String, with module: Module, path: String) throws {
        guard let index = Int(key), layers.indices.contains(index) else {
            throw ModuleTreeError.moduleNotFound(path: path, candidates: namedChildren().map(\.key))
        }
        guard let layer = module as? any UnaryLayer else {
            throw ModuleTreeError.incompatibleReplacement(
                path: path, slot: "any UnaryLayer", found: "\(type(of: module))")
        }
        layers[index] = layer
    }
}
