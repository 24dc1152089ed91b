extension ParameterSelection {
    /// Sensitivity-ranked selection as the examples and `peft train` make it: the Fisher
    /// information of each weight of `model` on the calibration `batches`, keeping the top 1%.
    public static func fisherRanked(
        _ model: some AdaptableModel, on batches: [[TextExample]], tokenizer: any Tokenizer,
        maximumLength: Int
    ) throws -> ParameterSelection {
        let untouched = try PreparedModel(untouched: model)
        return try ranked(
            model: model, calibrationBatches: batches.count, criterion: .fisher,
            budget: .fraction(0.01)
        ) { untouched.loss(batches[$0], tokenizer: tokenizer, maximumLength: maximumLength) }
    }
}
