import PEFTTensor

/// GPT-2's MLP: `c_proj(act(c_fc(x)))`, a 4× expansion through two Conv1D layers.
public final class GPT2MLP: Module {
    /// The expansion, key `c_fc`.
    @Child(key: "c_fc") public var expand: any LinearLayer
    /// The projection back, key `c_proj`.
    @Child(key: "c_proj") public var project: any LinearLayer
    /// The non-linearity between them.
    public let activation: Activation
    /// Dropout after the projection.
    @Child(key: "dropout") public var dropout: Dropout

    /// Creates the block from its layers.
    public init(
        expand: any LinearLayer, project: any LinearLayer, activation: Activation,
        dropout: Float = 0
    ) {
        self.activation = activation
        super.init()
        self.expand = expand
        self.project = project
        self.dropout = Dropout(probability: dropout)
    }

    /// Applies the block to `[..., C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { dropout(project(activation(expand(x)))) }
}

/// T5's feed-forward: `wo(dropout(act(wi(x))))`, ReLU in T5 v1.0; no biases.
public final class T5DenseActDense: Module {
    /// The expansion, key `wi`.
    @Child(key: "wi") public var expand: any LinearLayer
    /// The projection back, key `wo`.
    @Child(key: "wo") public var project: any LinearLayer
    /// Dropout after the activation.
    @Child(key: "dropout") public var dropout: Dropout
    /// The non-linearity.
    public let activation: Activation

    /// Creates the block from its layers.
    public init(
        expand: any LinearLayer, project: any LinearLayer, activation: Activation,
        dropout: Float = 0
    ) {
        self.activation = activation
        super.init()
        self.expand = expand
        self.project = project
        self.dropout = Dropout(probability: dropout)
    }

    /// Applies the block to `[..., C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { project(dropout(activation(expand(x)))) }
}

/// T5 v1.1's gated feed-forward: `wo(dropout(act(wi_0(x)) ⊙ wi_1(x)))`, gated GELU; no biases.
public final class T5DenseGatedActDense: Module {
    /// The gate branch, key `wi_0`.
    @Child(key: "wi_0") public var gate: any LinearLayer
    /// The linear branch, key `wi_1`.
    @Child(key: "wi_1") public var expand: any LinearLayer
    /// The projection back, key `wo`.
    @Child(key: "wo") public var project: any LinearLayer
    /// Dropout after the gating.
    @Child(key: "dropout") public var dropout: Dropout
    /// The gate's non-linearity.
    public let activation: Activation

    /// Creates the block from its layers.
    public init(
        gate: any LinearLayer, expand: any LinearLayer, project: any LinearLayer,
        activation: Activation,
        dropout: Float = 0
    ) {
        self.activation = activation
        super.init()
        self.gate = gate
        self.expand = expand
        self.project = project
        self.dropout = Dropout(probability: dropout)
    }

    /// Applies the block to `[..., C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        project(dropout(activation(gate(x)) * expand(x)))
    }
}
