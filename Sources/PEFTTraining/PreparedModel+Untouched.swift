extension PreparedModel {
    /// `model` as it is, nothing trained: the base to measure before fine-tuning.
    public init(untouched model: some AdaptableModel) throws {
        try self.init(
            base: model, method: .none, rank: 1, alpha: 1, targets: nil, virtualTokens: 1)
    }
}
