import Foundation
import PEFTNN
import PEFTTensor

/// Selective tuning as a ``PEFTMethod``: a `SELECTIVE` folder's deltas applied to the base weights, so
/// ``PEFTModel`` loads, switches off, deletes and saves what `peft train --method bitfit|selective`
/// writes.
///
/// The tuned entries are the base model's own; the adapter is a ``BaseWeightEdit`` that can take them
/// back to their original values and put them in again. Making a selection and training it go through
/// ``ParameterSelection`` and ``SparseAdamW``.
public enum SelectiveTuning: PEFTMethod {
    /// Keeps an edit beside the model; the values come from the folder.
    public static func apply(
        _ configuration: inout SelectiveConfiguration, in context: AdapterContext
    ) throws -> AdapterAttachment {
        guard context.weightsWillBeLoaded else {
            throw AdapterError.invalidConfiguration(
                key: "peft_type",
                reason:
                    "a SELECTIVE adapter comes from its folder (PEFTModel.load); make a selection with ParameterSelection"
            )
        }
        return AdapterAttachment(sharedModule: SelectiveEdit())
    }

    /// The deltas live in the folder's own layout, not as tensors of the model.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: SelectiveConfiguration
    ) -> [(key: String, parameter: Parameter)] { [] }

    /// The entries are the base's own: a loaded delta is always merged.
    public static var mergesIntoBase: Bool { true }

    /// Applies the deltas with ``ParameterSelection/loadDelta(from:into:)``, after keeping the original
    /// values of the parameters they touch.
    public static func loadWeights(
        from folder: URL, into model: Module, configuration: SelectiveConfiguration,
        attachment: AdapterAttachment
    ) throws -> Bool {
        guard let edit = attachment.sharedModule as? SelectiveEdit else { return false }
        let named = Dictionary(
            model.namedParameters().map { ($0.path, $0.parameter) }, uniquingKeysWith: { a, _ in a }
        )
        let originals = configuration.selectedParameters.compactMap { path in
            named[path].map { (path, $0, $0.value.copied()) }
        }
        let selection = try ParameterSelection.loadDelta(from: folder, into: model)
        edit.record(selection: selection, originals: originals)
        return true
    }

    /// Writes the delta between the tuned and the original values in the selective layout.
    public static func saveWeights(
        to folder: URL, from model: Module, configuration: SelectiveConfiguration,
        attachment: AdapterAttachment
    ) throws -> Bool {
        guard let edit = attachment.sharedModule as? SelectiveEdit, let selection = edit.selection
        else { return false }
        try edit.withEditApplied {
            try selection.saveDelta(of: model, relativeTo: edit.originalValues, to: folder)
        }
        return true
    }
}

/// The state of a loaded selective adapter: which parameters it changed, their original and tuned
/// values.
final class SelectiveEdit: Module, BaseWeightEdit {
    private(set) var selection: ParameterSelection?
    private var entries: [(path: String, parameter: Parameter, original: Tensor)] = []
    private var tuned: [Tensor] = []
    private(set) var isApplied = true

    override init() { super.init() }

    func record(
        selection: ParameterSelection,
        originals: [(path: String, parameter: Parameter, original: Tensor)]
    ) {
        self.selection = selection
        entries = originals
        tuned = originals.map { $0.parameter.value.copied() }
    }

    var originalValues: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.original) })
    }

    /// Puts the original values back (`false`) or the tuned ones in (`true`).
    func setApplied(_ applied: Bool) {
        guard applied != isApplied else { return }
        if !applied { tuned = entries.map { $0.parameter.value.copied() } }
        for (index, entry) in entries.enumerated() {
            entry.parameter.assign(applied ? tuned[index] : entry.original)
        }
        isApplied = applied
    }

    func withEditApplied<T>(_ body: () throws -> T) rethrows -> T {
        let was = isApplied
        setApplied(true)
        defer { setApplied(was) }
        return try body()
    }
}
