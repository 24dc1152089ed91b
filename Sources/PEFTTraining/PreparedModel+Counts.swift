extension PreparedModel {
    /// The parameters the method trains: the chosen entries for BitFit and selective tuning, the
    /// trainable tensors' elements otherwise.
    public var trainableParameterCount: Int {
        selection?.selectedCount ?? trainable.reduce(0) { $0 + $1.parameter.count }
    }

    /// Every parameter of the model, a prompt encoder's included.
    public var parameterCount: Int {
        base.parameterCount
            + (adapter?.promptEncoders.values.reduce(0) { $0 + $1.parameterCount } ?? 0)
    }
}
