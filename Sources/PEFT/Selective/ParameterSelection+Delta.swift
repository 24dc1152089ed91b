import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor

/// Compact checkpoints of selective tuning: only the selected entries' changes from the base.
extension ParameterSelection {
    /// The configuration file inside a checkpoint folder.
    static let configurationFileName = "adapter_config.json"
    /// The safetensors file inside a checkpoint folder.
    static let tensorsFileName = "adapter_model.safetensors"

    /// Writes the change of the selected entries of `model` from `base` to `folder`, creating it
    /// if needed.
    ///
    /// The folder holds two files, each written atomically:
    ///
    /// `adapter_config.json`:
    ///
    /// ```json
    /// {
    ///   "peft_type": "SELECTIVE", "format_version": 1,
    ///   "granularity": "element", "criterion": "fisher", "budget": {"fraction": 0.01},
    ///   "selected": 1234, "total_parameters": 124439808,
    ///   "selected_parameters": ["transformer.h.0.attn.c_attn.weight", "..."]
    /// }
    /// ```
    ///
    /// (`criterion` and `budget` are `null` for a rule such as BitFit.)
    /// `adapter_model.safetensors`, per selected parameter `<path>`:
    ///
    /// - `<path>.indices` (I64, `[k]`): the selected flat row-major indices, strictly increasing;
    ///   and `<path>.delta_values` (F32, `[k]`): tuned − base at those indices. A whole-tensor
    ///   selection stores instead `<path>.delta` (F32, the parameter's shape).
    /// - `<path>.exact_indices` (I64, `[e]`) and `<path>.exact_values` (F32, `[e]`), only when
    ///   needed: the entries for which no Float32 delta `d` gives `base + d == tuned` exactly (when
    ///   the tuned value is far smaller than the base's rounding step, as near a sign change),
    ///   with their tuned values.
    ///
    /// Loading computes `base + delta` in Float32, then sets the exact entries to their values, so
    /// a checkpoint applied to the same base reproduces the tuned parameters bit for bit. Each delta
    /// is `tuned − base` rounded, or an adjacent Float32 when that one does not add back exactly.
    ///
    /// - Parameters:
    ///   - model: The tuned model.
    ///   - folder: Where the two files go; created if needed.
    ///   - base: The parameters' values before tuning, by path (``snapshot(of:)``). It must hold
    ///     every selected parameter; a parameter it holds outside the selection is checked to be
    ///     unchanged too.
    /// - Throws: ``SelectiveTuningError/baseMismatch(path:reason:)`` if `base` lacks a selected
    ///   parameter or has another shape,
    ///   ``SelectiveTuningError/unselectedEntryChanged(path:index:)`` if an entry outside the
    ///   selection changed (it was not trained with ``SparseAdamW``), or a write error.
    public func saveDelta(of model: Module, relativeTo base: [String: Tensor], to folder: URL)
        throws
    {
        let tuned = try resolve(in: model)
        try checkUnselected(of: model, against: base)
        var writer = SafeTensorsWriter(
            metadata: ["format": "pt", "peft_type": SelectiveConfiguration.peftType])
        for (selected, parameter) in zip(parameters, tuned) {
            guard let original = base[selected.path] else {
                throw SelectiveTuningError.baseMismatch(
                    path: selected.path, reason: "the base values do not include it")
            }
            let delta = exactDelta(
                from: original.scalars, to: parameter.value.scalars, at: selected.flatIndices)
            let path = selected.path
            switch selected.entries {
            case .all:
                try writer.add("\(path).delta", shape: selected.shape, values: delta.values)
            case .indices(let indices):
                try writer.add(
                    "\(path).indices", shape: [indices.count], int64Values: indices.map(Int64.init))
                try writer.add("\(path).delta_values", shape: [indices.count], values: delta.values)
            }
            if !delta.exactIndices.isEmpty {
                let count = delta.exactIndices.count
                try writer.add(
                    "\(path).exact_indices", shape: [count],
                    int64Values: delta.exactIndices.map(Int64.init))
                try writer.add("\(path).exact_values", shape: [count], values: delta.exactValues)
            }
        }
        let configuration = SelectiveConfiguration(
            granularity: granularity, criterion: criterion, budget: budget,
            selected: selectedCount, totalParameters: modelParameterCount,
            selectedParameters: parameters.map(\.path))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(configuration)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writer.write(to: folder.appendingPathComponent(Self.tensorsFileName))
        try json.write(
            to: folder.appendingPathComponent(Self.configurationFileName), options: .atomic)
    }

    /// Adds the deltas saved in `folder` to the parameters of `model`, a copy of the base they were
    /// measured against, and returns the selection they were saved with.
    ///
    /// Everything is checked before any parameter changes: a checkpoint that fails leaves the
    /// model as it was, and no index is written outside its parameter.
    ///
    /// - Throws: ``SelectiveTuningError`` naming the file and key for a missing or malformed file,
    ///   a parameter the model lacks, a missing or unexpected tensor, a tensor of the wrong shape,
    ///   or an index that is out of range or out of order; `SafeTensorsError` for an unreadable
    ///   safetensors file or indices that are not integers.
    @discardableResult
    public static func loadDelta(from folder: URL, into model: Module) throws -> ParameterSelection
    {
        let configurationURL = folder.appendingPathComponent(configurationFileName)
        let tensorsURL = folder.appendingPathComponent(tensorsFileName)
        let configuration = try readConfiguration(configurationURL)
        guard FileManager.default.fileExists(atPath: tensorsURL.path) else {
            throw SelectiveTuningError.invalidCheckpoint(
                file: tensorsURL.path, reason: "the file does not exist")
        }
        let file = try SafeTensorsFile(contentsOf: tensorsURL)
        let named = Dictionary(
            model.namedParameters().map { ($0.path, $0.parameter) }, uniquingKeysWith: { a, _ in a }
        )
        var updates: [(parameter: Parameter, delta: StoredDelta)] = []
        var knownKeys: Set<String> = []
        for path in configuration.selectedParameters {
            guard let parameter = named[path] else {
                throw SelectiveTuningError.invalidCheckpoint(
                    file: configurationURL.path,
                    reason: "selected parameter '\(path)' is not in the model")
            }
            let delta = try StoredDelta(
                path: path, shape: parameter.shape, file: file, fileName: tensorsURL.path)
            knownKeys.formUnion(delta.keys)
            updates.append((parameter, delta))
        }
        if let extra = file.tensorNames.first(where: { !knownKeys.contains($0) }) {
            throw SelectiveTuningError.unexpectedTensor(file: tensorsURL.path, key: extra)
        }
        let selection = try ParameterSelection(
            model: model,
            entries: Dictionary(
                uniqueKeysWithValues: zip(configuration.selectedParameters, updates).map {
                    ($0, $1.delta.entries)
                }),
            granularity: configuration.granularity, criterion: configuration.criterion,
            budget: configuration.budget)
        for (parameter, delta) in updates { delta.add(to: parameter) }
        return selection
    }

    /// The configuration in `url`, checked to be a selective checkpoint this code reads.
    private static func readConfiguration(_ url: URL) throws -> SelectiveConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SelectiveTuningError.invalidCheckpoint(
                file: url.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        let configuration: SelectiveConfiguration
        do {
            configuration = try JSONDecoder().decode(
                SelectiveConfiguration.self, from: data)
        } catch {
            throw SelectiveTuningError.invalidCheckpoint(
                file: url.path, reason: "not a selective-tuning configuration (\(error))")
        }
        return configuration
    }

    /// Throws for the first entry outside the selection whose value in `model` differs from
    /// `base`, bit for bit.
    private func checkUnselected(of model: Module, against base: [String: Tensor]) throws {
        let selected = Dictionary(uniqueKeysWithValues: parameters.map { ($0.path, $0.entries) })
        for (path, parameter) in model.namedParameters() {
            guard let original = base[path], selected[path] != .all else { continue }
            guard original.shape == parameter.shape else {
                throw SelectiveTuningError.baseMismatch(
                    path: path, reason: "shape \(original.shape), the model's is \(parameter.shape)"
                )
            }
            var chosen: Set<Int> = []
            if case .indices(let indices)? = selected[path] { chosen = Set(indices) }
            let before = original.storage.buffer
            let after = parameter.value.storage.buffer
            for index in before.indices
            where before[index].bitPattern != after[index].bitPattern && !chosen.contains(index) {
                throw SelectiveTuningError.unselectedEntryChanged(path: path, index: index)
            }
        }
    }

    /// The Float32 deltas that add back to `tuned` at `entries`, and the entries no delta can
    /// reproduce with their tuned values.
    private func exactDelta(from base: [Float], to tuned: [Float], at indices: [Int])
        -> (values: [Float], exactIndices: [Int], exactValues: [Float])
    {
        var values: [Float] = []
        values.reserveCapacity(indices.count)
        var exactIndices: [Int] = []
        var exactValues: [Float] = []
        for index in indices {
            let (original, target) = (base[index], tuned[index])
            let rounded = target - original
            let candidates = [rounded, rounded.nextUp, rounded.nextDown]
            if let delta = candidates.first(where: {
                (original + $0).bitPattern == target.bitPattern
            }) {
                values.append(delta)
            } else {
                values.append(rounded)
                exactIndices.append(index)
                exactValues.append(target)
            }
        }
        return (values, exactIndices, exactValues)
    }
}

/// One parameter's deltas read from a checkpoint and validated against the parameter's shape.
private struct StoredDelta {
    /// The selected entries.
    let entries: SelectedEntries
    /// One delta per selected entry, or the whole parameter's deltas.
    let values: [Float]
    /// Entries set to a stored value after the deltas are added.
    let exactIndices: [Int]
    /// The values of `exactIndices`.
    let exactValues: [Float]
    /// The tensor names this parameter took from the file.
    let keys: [String]

    /// Reads and checks the deltas of `path`, a parameter of `shape`, from `file`.
    init(path: String, shape: [Int], file: SafeTensorsFile, fileName: String) throws {
        let count = shape.reduce(1, *)
        func require(_ key: String, shape expected: [Int]?) throws -> SafeTensorsTensorInfo {
            guard let info = file.info(key) else {
                throw SelectiveTuningError.missingTensor(file: fileName, key: key)
            }
            if let expected, info.shape != expected {
                throw SelectiveTuningError.tensorShapeMismatch(
                    file: fileName, key: key, expected: expected, found: info.shape)
            }
            return info
        }
        func indices(_ key: String) throws -> [Int] {
            let info = try require(key, shape: nil)
            guard info.shape.count == 1 else {
                throw SelectiveTuningError.tensorShapeMismatch(
                    file: fileName, key: key, expected: [info.elementCount], found: info.shape)
            }
            let stored = try file.int64s(key)
            var previous: Int64 = -1
            for index in stored {
                guard index > previous, index < Int64(count) else {
                    throw SelectiveTuningError.indexOutOfRange(
                        file: fileName, key: key, index: index, count: count)
                }
                previous = index
            }
            return stored.map { Int($0) }
        }
        var keys: [String] = []
        if file.info("\(path).delta") != nil {
            _ = try require("\(path).delta", shape: shape)
            entries = .all
            values = try file.floats("\(path).delta")
            keys.append("\(path).delta")
        } else {
            let selected = try indices("\(path).indices")
            _ = try require("\(path).delta_values", shape: [selected.count])
            entries = .indices(selected)
            values = try file.floats("\(path).delta_values")
            keys += ["\(path).indices", "\(path).delta_values"]
        }
        let exactKeys = ["\(path).exact_indices", "\(path).exact_values"]
        if exactKeys.contains(where: { file.info($0) != nil }) {
            exactIndices = try indices(exactKeys[0])
            _ = try require(exactKeys[1], shape: [exactIndices.count])
            exactValues = try file.floats(exactKeys[1])
            keys += exactKeys
        } else {
            exactIndices = []
            exactValues = []
        }
        self.keys = keys
    }

    /// Adds the deltas to `parameter`'s selected entries, then sets the exact entries.
    func add(to parameter: Parameter) {
        parameter.updateInPlace { value in
            switch entries {
            case .all:
                for index in value.indices { value[index] += values[index] }
            case .indices(let indices):
                for (slot, index) in indices.enumerated() { value[index] += values[slot] }
            }
            for (slot, index) in exactIndices.enumerated() { value[index] = exactValues[slot] }
        }
    }
}
