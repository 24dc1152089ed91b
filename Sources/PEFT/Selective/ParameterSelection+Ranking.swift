import PEFTNN
import PEFTTensor

/// Sensitivity-ranked selections: score every candidate element from calibration gradients, then
/// keep the best elements, rows or tensors within a budget.
extension ParameterSelection {
    /// Ranks the candidate parameters of `model` by their sensitivity on `calibrationBatches`
    /// losses and selects the best entries within `budget`.
    ///
    /// For each batch `b` in `0..<calibrationBatches`, `loss(b)` runs the model forward and returns
    /// a scalar loss; its gradient `g` scores each candidate element by `criterion` (Fisher `g²`,
    /// first-order Taylor `|w·g|`, or `|g|`), averaged over the batches. Then, by `granularity`:
    ///
    /// - ``SelectionGranularity/element``: the `budget` highest-scoring elements, a sparse mask.
    ///   Ties at the threshold go to the earlier elements in tree order.
    /// - ``SelectionGranularity/row``: rows along the first dimension ranked by their **summed**
    ///   score (a 1-D parameter's rows are its elements, a scalar is one row).
    /// - ``SelectionGranularity/tensor``: whole parameters ranked by their **mean** score, so a
    ///   large embedding does not win on size alone.
    ///
    /// Rows and tensors are taken best first while they fit: a unit larger than the budget left is
    /// skipped and smaller ones after it may still be taken, so the budget is a ceiling, never
    /// exceeded. Ties keep tree order.
    ///
    /// Scoring changes no weight and leaves no gradient: every parameter's gradient is dropped and
    /// its trainability restored afterwards (gradients accumulated before the call are dropped
    /// too).
    /// Put the model in evaluation mode first so dropout does not make the scores random.
    ///
    /// ```swift
    /// model.eval()
    /// let selection = try ParameterSelection.ranked(
    ///     model: model, calibrationBatches: 8, criterion: .fisher, budget: .fraction(0.005)
    /// ) { batch in
    ///     causalLanguageModelingLoss(logits: model(batches[batch]), labels: batches[batch])
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - model: The model whose parameters are scored, unchanged by the call.
    ///   - calibrationBatches: How many batches `loss` is called for.
    ///   - criterion: Fisher (mean g²), first-order Taylor (mean |w·g|) or gradient magnitude.
    ///   - budget: How many elements may be chosen, as a fraction of the candidates or a count.
    ///   - granularity: Whether elements, rows or whole tensors are chosen.
    ///   - candidates: Which parameter paths may be chosen; the budget's fraction is of their
    ///     elements.
    ///   - loss: The scalar loss of calibration batch `b`, computed through `model`; last so it
    ///     can be a trailing closure.
    /// - Throws: ``SelectiveTuningError`` for no batches or candidates, an invalid budget, a loss
    ///   that is not a scalar, or a non-finite score; or what `loss` throws.
    public static func ranked(
        model: Module, calibrationBatches: Int, criterion: SensitivityCriterion,
        budget: SelectionBudget, granularity: SelectionGranularity = .element,
        candidates: (String) -> Bool = { _ in true }, loss: (Int) throws -> Tensor
    ) throws -> ParameterSelection {
        guard calibrationBatches > 0 else {
            throw SelectiveTuningError.invalidCalibration(
                "\(calibrationBatches) calibration batches; at least one is needed")
        }
        let chosen = model.namedParameters().filter { candidates($0.path) }
        guard !chosen.isEmpty else {
            throw SelectiveTuningError.invalidCalibration("no parameter path is a candidate")
        }
        let allowed = try budget.elementCount(outOf: chosen.reduce(0) { $0 + $1.parameter.count })
        let scores = try sensitivityScores(
            of: chosen, in: model, batches: calibrationBatches, criterion: criterion, loss: loss)
        let indices: [[Int]]
        switch granularity {
        case .element: indices = topElements(scores, allowed: allowed)
        case .row, .tensor:
            indices = topUnits(
                rankingUnits(scores, shapes: chosen.map(\.parameter.shape), by: granularity),
                tensorCount: chosen.count, allowed: allowed)
        }
        let entries = Dictionary(
            uniqueKeysWithValues: zip(chosen, indices).map {
                ($0.path, SelectedEntries.indices($1))
            })
        return try ParameterSelection(
            model: model, entries: entries, granularity: granularity, criterion: criterion,
            budget: budget)
    }

    /// The mean score of every element of each of `parameters` over `batches` losses.
    private static func sensitivityScores(
        of parameters: [(path: String, parameter: Parameter)], in model: Module, batches: Int,
        criterion: SensitivityCriterion, loss: (Int) throws -> Tensor
    ) throws -> [[Float]] {
        let everything = model.namedParameters().map(\.parameter)
        let wasTrainable = everything.map(\.isTrainable)
        let candidates = Set(parameters.map { ObjectIdentifier($0.parameter) })
        // Only the candidates need a gradient; the rest are frozen for the calibration passes.
        for parameter in everything {
            parameter.zeroGradient()
            parameter.isTrainable = candidates.contains(ObjectIdentifier(parameter))
        }
        defer {
            for (parameter, trainable) in zip(everything, wasTrainable) {
                parameter.zeroGradient()
                parameter.isTrainable = trainable
            }
        }
        var sums = parameters.map { [Float](repeating: 0, count: $0.parameter.count) }
        for batch in 0..<batches {
            let value = try loss(batch)
            guard value.count == 1 else {
                throw SelectiveTuningError.invalidCalibration(
                    "the loss of batch \(batch) has shape \(value.shape), not a scalar")
            }
            if value.requiresGradient { value.backward() }
            for (index, (_, parameter)) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                let weight = parameter.value.storage.pointer
                let slope = gradient.storage.pointer
                sums[index].withUnsafeMutableBufferPointer { sum in
                    for element in sum.indices {
                        sum[element] += criterion.term(
                            value: weight[element], gradient: slope[element])
                    }
                }
                parameter.zeroGradient()
            }
        }
        let scale = 1 / Float(batches)
        for (index, (path, _)) in parameters.enumerated() {
            sums[index].withUnsafeMutableBufferPointer { sum in
                for element in sum.indices { sum[element] *= scale }
            }
            guard sums[index].allSatisfy(\.isFinite) else {
                throw SelectiveTuningError.nonFiniteScore(path: path)
            }
        }
        return sums
    }

    /// The flat indices, per tensor, of the `allowed` highest scores over all tensors.
    private static func topElements(_ scores: [[Float]], allowed: Int) -> [[Int]] {
        guard allowed > 0 else { return scores.map { _ in [] } }
        let descending = scores.joined().sorted(by: >)
        let threshold = descending[allowed - 1]
        var ties = allowed - descending.prefix { $0 > threshold }.count
        return scores.map { tensor in
            tensor.indices.filter { element in
                if tensor[element] > threshold { return true }
                guard tensor[element] == threshold, ties > 0 else { return false }
                ties -= 1
                return true
            }
        }
    }

    /// The rows or whole tensors of each scored tensor, with their summed or mean scores.
    private static func rankingUnits(
        _ scores: [[Float]], shapes: [[Int]], by granularity: SelectionGranularity
    ) -> [RankingUnit] {
        var units: [RankingUnit] = []
        for (tensor, (score, shape)) in zip(scores, shapes).enumerated() where !score.isEmpty {
            let sum = { (range: Range<Int>) in
                score[range].reduce(0) { $0 + Double($1) }
            }
            if granularity == .tensor {
                let whole = 0..<score.count
                units.append(
                    RankingUnit(
                        tensor: tensor, elements: whole, score: sum(whole) / Double(score.count)))
                continue
            }
            let rowSize = score.count / (shape.first ?? 1)
            for start in stride(from: 0, to: score.count, by: rowSize) {
                let row = start..<(start + rowSize)
                units.append(RankingUnit(tensor: tensor, elements: row, score: sum(row)))
            }
        }
        return units
    }

    /// The flat indices, per tensor, of the best `units` that fit in `allowed` elements.
    private static func topUnits(_ units: [RankingUnit], tensorCount: Int, allowed: Int) -> [[Int]]
    {
        let ranked = units.enumerated().sorted {
            $0.element.score > $1.element.score
                || ($0.element.score == $1.element.score && $0.offset < $1.offset)
        }
        var remaining = allowed
        var taken: [[Range<Int>]] = Array(repeating: [], count: tensorCount)
        for (_, unit) in ranked where unit.elements.count <= remaining {
            taken[unit.tensor].append(unit.elements)
            remaining -= unit.elements.count
            if remaining == 0 { break }
        }
        return taken.map { ranges in ranges.sorted { $0.lowerBound < $1.lowerBound }.flatMap { $0 }
        }
    }
}

/// A row or whole tensor competing for a ranking's budget.
private struct RankingUnit {
    /// The position of the tensor among the candidates.
    let tensor: Int
    /// The unit's flat indices in the tensor.
    let elements: Range<Int>
    /// The unit's summed (row) or mean (tensor) score.
    let score: Double
}
