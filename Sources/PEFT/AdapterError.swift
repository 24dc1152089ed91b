/// Errors from applying, loading and saving adapters; each names the module, key or file.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    /// No module of a supported kind matched the targets.
    case noTargetMatched(targets: String, candidates: [String], closest: [String])
    /// A target named a module of a kind the method cannot wrap.
    case unsupportedTarget(path: String, type: String)
    /// A target pattern is not a valid regular expression.
    case invalidPattern(String)
    /// The adapter name is taken, or unknown.
    case duplicateAdapter(String)
    /// No adapter has this name.
    case unknownAdapter(String, known: [String])
    /// An adapter tensor does not fit the module it is for.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The adapter file lacks tensors the configuration implies.
    case missingKeys(file: String, keys: [String])
    /// The adapter file has tensors no module takes.
    case unexpectedKeys(file: String, keys: [String])
    /// A configuration value is invalid.
    case invalidConfiguration(key: String, reason: String)
    /// An adapter folder is missing a file or holds a malformed one.
    case folder(path: String, reason: String)
    /// The operation needs a state the model is not in (merged, another method).
    case invalidState(String)
    /// A safe merge found a non-finite merged weight: the adapter and the first layer (its path) with one.
    case nonFiniteMerge(adapter: String, layer: String)

    /// One sentence naming the module, key or file.
    public var description: String {
        switch self {
        case .noTargetMatched(let targets, let candidates, let closest):
            return "target_modules \(targets) matched no module of a supported kind; "
                + "closest: \(closest.joined(separator: ", ")); candidates: \(candidates.joined(separator: ", "))"
        case .unsupportedTarget(let path, let type):
            return
                "module '\(path)' is a \(type), which this method cannot wrap (Linear, Conv1D or Embedding)"
        case .invalidPattern(let pattern): return "'\(pattern)' is not a valid regular expression"
        case .duplicateAdapter(let name): return "an adapter named '\(name)' already exists"
        case .unknownAdapter(let name, let known):
            return "no adapter named '\(name)' (adapters: \(known.joined(separator: ", ")))"
        case .shapeMismatch(let key, let expected, let found):
            return "'\(key)' has shape \(found) but the module needs \(expected)"
        case .missingKeys(let file, let keys):
            return
                "\(file) lacks \(keys.count) tensor(s): \(keys.prefix(8).joined(separator: ", "))"
        case .unexpectedKeys(let file, let keys):
            return
                "\(file) has \(keys.count) tensor(s) no module takes: \(keys.prefix(8).joined(separator: ", "))"
        case .invalidConfiguration(let key, let reason):
            return "adapter configuration '\(key)': \(reason)"
        case .folder(let path, let reason): return "\(path): \(reason)"
        case .invalidState(let reason): return reason
        case .nonFiniteMerge(let adapter, let layer):
            return
                "merging adapter '\(adapter)' would give non-finite weights in layer '\(layer)'; "
                + "nothing was merged"
        }
    }
}
