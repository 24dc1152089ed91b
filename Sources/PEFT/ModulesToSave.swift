import PEFTNN
import PEFTTensor

/// Full trainable copies of whole modules (`modules_to_save`), one set per adapter.
///
/// The module stays where it is; the active adapter's copy lives in its parameters and the others wait
/// here, with the original values, to be swapped in when the active adapter changes or adapters are
/// switched off. The saved keys are the module's own paths (`transformer.ln_f.weight`), as PEFT writes.
struct ModulesToSave {
    /// Adapter → parameter path → its copy while the adapter is not in the parameters.
    var copies: [String: [String: Tensor]] = [:]
    /// Parameter path → the base model's value.
    var originals: [String: Tensor] = [:]
    /// Adapter → the parameter paths it owns.
    var owned: [String: [String]] = [:]
    /// The adapter whose values are in the parameters now, if any.
    var resident: String?

    mutating func register(paths: [String], adapter: String, in model: Module) throws {
        var parameterPaths: [String] = []
        let all = model.namedParameters()
        // As in PEFT, a name that matches no module is passed over; only a list that matches
        // nothing at all is an error.
        for path in paths {
            let matches = all.filter { entry in
                let modulePath = entry.path.split(separator: ".").dropLast().joined(separator: ".")
                return modulePath == path || modulePath.hasSuffix(".\(path)")
            }
            parameterPaths += matches.map(\.path)
        }
        guard !parameterPaths.isEmpty else {
            throw AdapterError.noTargetMatched(
                targets: "modules_to_save \(paths)", candidates: [], closest: [])
        }
        for (path, parameter) in all where parameterPaths.contains(path) {
            if originals[path] == nil { originals[path] = parameter.value.copied() }
        }
        owned[adapter] = parameterPaths
        copies[adapter] = Dictionary(
            uniqueKeysWithValues: parameterPaths.map { ($0, originals[$0]!.copied()) })
    }

    /// Puts `adapter`'s copies into the parameters, storing `previous`'s current values first.
    mutating func activate(_ adapter: String, previous: String?, in model: Module) throws {
        let parameters = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        if let resident, resident != adapter { store(resident, from: parameters) }
        if resident == adapter { return }
        for (path, original) in originals where !(owned[adapter]?.contains(path) ?? false) {
            parameters[path]?.assign(original)
        }
        for path in owned[adapter] ?? [] {
            if let copy = copies[adapter]?[path] { parameters[path]?.assign(copy) }
        }
        resident = owned[adapter] == nil ? nil : adapter
    }

    /// Puts the base values back (adapters off), keeping the resident adapter's trained values.
    mutating func restoreOriginals(saving adapter: String, in model: Module) throws {
        let parameters = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        if let resident { store(resident, from: parameters) }
        for (path, original) in originals { parameters[path]?.assign(original) }
        resident = nil
    }

    private mutating func store(_ adapter: String, from parameters: [String: Parameter]) {
        for path in owned[adapter] ?? [] {
            if let parameter = parameters[path] {
                copies[adapter]?[path] = parameter.value.copied()
            }
        }
    }

    mutating func remove(adapter: String) {
        copies[adapter] = nil
        owned[adapter] = nil
        if resident == adapter { resident = nil }
    }

    /// The adapter's copies as savable parameters: the live ones when it is resident.
    func tensors(adapter: String, activeAdapter: String?, in model: Module) -> [(
        key: String, parameter: Parameter
    )] {
        guard let paths = owned[adapter] else { return [] }
        let parameters = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        return paths.compactMap { path in
            if resident == adapter { return parameters[path].map { (path, $0) } }
            return copies[adapter]?[path].map { (path, Parameter($0, trainable: false)) }
        }
    }
}
