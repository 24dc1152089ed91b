/// Errors from walking, editing and loading a module tree; each names the path involved.
public enum ModuleTreeError: Error, CustomStringConvertible, Equatable {
    /// No module has this path; `candidates` are paths that do exist nearby.
    case moduleNotFound(path: String, candidates: [String])
    /// The slot at `path` is declared as `slot` and cannot hold a module of type `found`.
    case incompatibleReplacement(path: String, slot: String, found: String)
    /// A pattern given for matching paths is not a valid regular expression.
    case invalidPattern(String)
    /// A state dict entry has the wrong shape.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// A strict load found keys the model lacks and model keys the state dict lacks.
    case keyMismatch(missing: [String], unexpected: [String])

    /// One sentence naming the path, key or shape.
    public var description: String {
        switch self {
        case .moduleNotFound(let path, let candidates):
            let nearby =
                candidates.isEmpty
                ? "" : "; modules there: \(candidates.prefix(12).joined(separator: ", "))"
            return "no module at path '\(path)'\(nearby)"
        case .incompatibleReplacement(let path, let slot, let found):
            return "cannot put a \(found) at '\(path)': the slot holds \(slot)"
        case .invalidPattern(let pattern):
            return "'\(pattern)' is not a valid regular expression"
        case .shapeMismatch(let key, let expected, let found):
            return "'\(key)' has shape \(found) but the model expects \(expected)"
        case .keyMismatch(let missing, let unexpected):
            var parts: [String] = []
            if !missing.isEmpty {
                parts.append("missing keys: \(missing.prefix(20).joined(separator: ", "))")
            }
            if !unexpected.isEmpty {
                parts.append("unexpected keys: \(unexpected.prefix(20).joined(separator: ", "))")
            }
            return "state dict does not match the model (\(parts.joined(separator: "; ")))"
        }
    }
}
