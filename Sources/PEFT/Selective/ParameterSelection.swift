import PEFTNN
import PEFTTensor

/// Which entries of which parameters of a model train: selective fine-tuning (BitFit, pattern and
/// layer rules, sensitivity-ranked sparse masks).
///
/// A selection is plain data: per parameter path, the whole tensor or a sorted list of flat
/// element indices, with a record of how it was chosen. Its life cycle mirrors the other methods':
///
/// ```swift
/// let base = try selection.snapshot(of: model)
/// try selection.apply(to: model)                      // freeze all, unfreeze the selected
/// let optimizer = try SparseAdamW(model, selection: selection, learningRate: 1e-3)
/// // ... train: loss.backward(); optimizer.step(); optimizer.zeroGradients()
/// try selection.saveDelta(of: model, relativeTo: base, to: folder)
/// try ParameterSelection.loadDelta(from: folder, into: freshBaseModel)
/// ```
///
/// A parameter with only some entries selected trains as a whole for autograd (its gradient is
/// dense); ``SparseAdamW`` then updates only the selected entries.
public struct ParameterSelection: Hashable, Sendable {
    /// The parameters with at least one selected entry, in the model's tree order.
    public let parameters: [SelectedParameter]
    /// The unit the selection was chosen in; ``SelectionGranularity/tensor`` for rules.
    public let granularity: SelectionGranularity
    /// The score a ranking used, or `nil` for a rule.
    public let criterion: SensitivityCriterion?
    /// The budget a ranking filled, or `nil` for a rule.
    public let budget: SelectionBudget?
    /// Every parameter of the model (selected or not), for the report and ``fraction``.
    let layout: [ParameterExtent]

    /// Selects `entries` per parameter path of `model`.
    ///
    /// Index lists are normalised: an empty list drops the parameter, a complete one becomes
    /// ``SelectedEntries/all``.
    ///
    /// - Throws: ``SelectiveTuningError/unknownParameter(path:)`` for a path that names no
    ///   parameter, or ``SelectiveTuningError/invalidIndices(path:reason:)`` for indices that are
    ///   unsorted, repeated or out of range.
    public init(
        model: Module, entries: [String: SelectedEntries],
        granularity: SelectionGranularity = .element, criterion: SensitivityCriterion? = nil,
        budget: SelectionBudget? = nil
    ) throws {
        let named = model.namedParameters()
        let known = Set(named.map(\.path))
        if let unknown = entries.keys.sorted().first(where: { !known.contains($0) }) {
            throw SelectiveTuningError.unknownParameter(path: unknown)
        }
        var parameters: [SelectedParameter] = []
        for (path, parameter) in named {
            guard let chosen = entries[path] else { continue }
            if case .indices(let indices) = chosen, indices.isEmpty { continue }
            parameters.append(
                try SelectedParameter(path: path, shape: parameter.shape, entries: chosen))
        }
        self.parameters = parameters
        self.granularity = granularity
        self.criterion = criterion
        self.budget = budget
        self.layout = named.map { ParameterExtent(path: $0.path, count: $0.parameter.count) }
    }

    /// The selected parameter at `path`, or `nil` if none of its entries is selected.
    public subscript(path: String) -> SelectedParameter? {
        parameters.first { $0.path == path }
    }

    /// The number of selected entries over all parameters.
    public var selectedCount: Int { parameters.reduce(0) { $0 + $1.selectedCount } }

    /// The number of elements of every parameter of the model the selection was made for.
    public var modelParameterCount: Int { layout.reduce(0) { $0 + $1.count } }

    /// The selected share of the model's parameter elements, in `[0, 1]`.
    public var fraction: Double {
        modelParameterCount == 0 ? 0 : Double(selectedCount) / Double(modelParameterCount)
    }

    /// Freezes every parameter of `model`, then makes each selected parameter trainable.
    ///
    /// A partly selected parameter trains as a whole for autograd; train it with ``SparseAdamW``
    /// so that only its selected entries change.
    ///
    /// - Throws: ``SelectiveTuningError`` if a selected path is missing from `model` or has
    ///   another shape there; the model is then unchanged.
    public func apply(to model: Module) throws {
        let resolved = try resolve(in: model)
        model.freeze()
        for parameter in resolved { parameter.isTrainable = true }
    }

    /// Copies of the current values of the selected parameters of `model`, by path: the base a
    /// delta checkpoint is measured against.
    ///
    /// - Throws: ``SelectiveTuningError`` if a selected path is missing from `model` or has
    ///   another shape there.
    public func snapshot(of model: Module) throws -> [String: Tensor] {
        let resolved = try resolve(in: model)
        return Dictionary(
            uniqueKeysWithValues: zip(parameters, resolved).map { ($0.path, $1.value.copied()) })
    }

    /// The model's parameter for each of ``parameters``, in order, after checking their shapes.
    func resolve(in model: Module) throws -> [Parameter] {
        let named = Dictionary(
            model.namedParameters().map { ($0.path, $0.parameter) }, uniquingKeysWith: { a, _ in a }
        )
        return try parameters.map { selected in
            guard let parameter = named[selected.path] else {
                throw SelectiveTuningError.unknownParameter(path: selected.path)
            }
            guard parameter.shape == selected.shape else {
                throw SelectiveTuningError.shapeMismatch(
                    path: selected.path, expected: selected.shape, found: parameter.shape)
            }
            return parameter
        }
    }
}

/// A parameter's path and element count, as recorded when a selection is made.
struct ParameterExtent: Hashable, Sendable {
    /// The dotted path.
    let path: String
    /// The number of elements.
    let count: Int
}
