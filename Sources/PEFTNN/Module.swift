import PEFTTensor

/// A node of a model: named parameters and named submodules, discovered from stored properties.
///
/// Subclasses declare their parts with ``Child``, ``Children``, ``Param`` and ``OptionalParam``; the
/// keys are Hugging Face's, so the dotted paths (`transformer.h.0.attn.c_attn.weight`) are the keys of
/// checkpoints and adapter files. The tree is discovered by reflection, which is slow next to arithmetic,
/// so it is walked only at setup (apply a method, freeze, load, save, summarise, switch modes); training
/// keeps a flat list of ``Parameter``s and walks nothing.
///
/// A container whose children change at run time overrides ``namedChildren()``,
/// ``namedDirectParameters()`` and ``replaceChild(key:with:path:)``.
open class Module {
    /// Whether the module is in training mode (dropout active).
    public private(set) var isTraining = true

    /// Creates a module in training mode.
    public init() {}

    /// The property-wrapper slots of this module and its superclasses, in declaration order.
    private var reflectedSlots: (modules: [ModuleSlot], parameters: [ParameterSlot]) {
        var modules: [ModuleSlot] = []
        var parameters: [ParameterSlot] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let current = mirror, current.subjectType != Module.self {
            levels.append(current)
            mirror = current.superclassMirror
        }
        for level in levels.reversed() {
            for child in level.children {
                if let slot = child.value as? ModuleSlot { modules.append(slot) }
                if let slot = child.value as? ParameterSlot { parameters.append(slot) }
            }
        }
        return (modules, parameters)
    }

    /// The direct submodules with their keys relative to this module.
    open func namedChildren() -> [(key: String, module: Module)] {
        reflectedSlots.modules.flatMap(\.entries)
    }

    /// The parameters this module owns directly, with their keys.
    open func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        reflectedSlots.parameters.compactMap { slot in slot.parameter.map { (slot.key, $0) } }
    }

    /// Puts `module` in the child slot `key`; `path` is the full path, for errors.
    open func replaceChild(key: String, with module: Module, path: String) throws {
        for slot in reflectedSlots.modules where slot.entries.contains(where: { $0.key == key }) {
            try slot.replace(key: key, with: module, path: path)
            return
        }
        throw ModuleTreeError.moduleNotFound(path: path, candidates: namedChildren().map(\.key))
    }

    /// Called when the module switches between training and evaluation.
    open func didChangeMode() {}
}

extension Module {
    /// Joins a prefix and a key with a dot.
    static func join(_ prefix: String, _ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix).\(key)"
    }

    /// Every module of the tree with its path, this one first (at the empty path), depth first.
    public func namedModules() -> [(path: String, module: Module)] {
        var result: [(path: String, module: Module)] = []
        var stack: [(String, Module)] = [("", self)]
        while let (path, module) = stack.popLast() {
            result.append((path, module))
            for child in module.namedChildren().reversed() {
                stack.append((Module.join(path, child.key), child.module))
            }
        }
        return result
    }

    /// Every parameter of the tree with its path; a parameter shared by two modules appears once.
    public func namedParameters() -> [(path: String, parameter: Parameter)] {
        var seen: Set<ObjectIdentifier> = []
        var result: [(path: String, parameter: Parameter)] = []
        for (path, module) in namedModules() {
            for (key, parameter) in module.namedDirectParameters()
            where seen.insert(ObjectIdentifier(parameter)).inserted {
                result.append((Module.join(path, key), parameter))
            }
        }
        return result
    }

    /// Every parameter of the tree.
    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// The parameters that train, in tree order: what an optimizer should hold.
    public var trainableParameters: [Parameter] { parameters.filter(\.isTrainable) }

    /// The number of parameter elements in the tree.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// The number of trainable parameter elements in the tree.
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.count } }

    /// The module at a dotted path (the empty path is this module).
    public func module(at path: String) throws -> Module {
        let modules = namedModules()
        if let found = modules.first(where: { $0.path == path }) { return found.module }
        throw ModuleTreeError.moduleNotFound(
            path: path, candidates: Module.nearbyPaths(to: path, in: modules.map(\.path)))
    }

    /// Replaces the submodule at `path` with `module`, which must fit the slot's declared type.
    public func replaceModule(at path: String, with module: Module) throws {
        for (parentPath, parent) in namedModules() {
            for child in parent.namedChildren() where Module.join(parentPath, child.key) == path {
                try parent.replaceChild(key: child.key, with: module, path: path)
                return
            }
        }
        throw ModuleTreeError.moduleNotFound(
            path: path, candidates: Module.nearbyPaths(to: path, in: namedModules().map(\.path)))
    }

    /// Paths sharing the longest prefix with `path`, for "did you mean" messages.
    static func nearbyPaths(to path: String, in paths: [String]) -> [String] {
        let segments = path.split(separator: ".")
        for length in stride(from: segments.count - 1, through: 0, by: -1) {
            let prefix = segments.prefix(length).joined(separator: ".")
            let matches = paths.filter {
                !$0.isEmpty && (prefix.isEmpty || $0.hasPrefix(prefix + "."))
            }
            if !matches.isEmpty { return Array(matches.prefix(12)) }
        }
        return []
    }

    /// Switches this module and every submodule to training (`true`) or evaluation (`false`) mode.
    public func train(_ training: Bool = true) {
        for (_, module) in namedModules() where module.isTraining != training {
            module.isTraining = training
            module.didChangeMode()
        }
    }

    /// Switches this module and every submodule to evaluation mode.
    public func eval() { train(false) }

    /// Freezes every parameter whose path satisfies `predicate` (all of them by default).
    public func freeze(where predicate: (String) -> Bool = { _ in true }) {
        for (path, parameter) in namedParameters() where predicate(path) {
            parameter.isTrainable = false
        }
    }

    /// Unfreezes every parameter whose path satisfies `predicate` (all of them by default).
    public func unfreeze(where predicate: (String) -> Bool = { _ in true }) {
        for (path, parameter) in namedParameters() where predicate(path) {
            parameter.isTrainable = true
        }
    }

    /// Freezes the parameters whose full path matches the regular expression `pattern` entirely.
    public func freeze(matching pattern: String) throws {
        let regex = try Module.regex(pattern)
        freeze { (try? regex.wholeMatch(in: $0)) != nil }
    }

    /// Unfreezes the parameters whose full path matches the regular expression `pattern` entirely.
    public func unfreeze(matching pattern: String) throws {
        let regex = try Module.regex(pattern)
        unfreeze { (try? regex.wholeMatch(in: $0)) != nil }
    }

    static func regex(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch { throw ModuleTreeError.invalidPattern(pattern) }
    }
}
