import Foundation
import PEFTNN

/// Which modules a method attaches to, in Hugging Face PEFT's three forms.
public enum TargetModules: Equatable, Sendable {
    /// Modules whose name equals an entry or ends with `.` + entry (`["c_attn"]`, `["q", "v"]`).
    case suffixes([String])
    /// Modules whose full name matches this regular expression entirely.
    case pattern(String)
    /// Every linear layer except the output head (`all-linear`).
    case allLinear
    /// The model family's default for the method (`AdaptableModel.defaultTargetModules(for:)`).
    case automatic

    /// Whether the module at `path` is named by this target (type checks happen elsewhere).
    func matches(_ path: String) throws -> Bool {
        switch self {
        case .suffixes(let names): return names.contains { path == $0 || path.hasSuffix(".\($0)") }
        case .pattern(let pattern):
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch { throw AdapterError.invalidPattern(pattern) }
            return (try? regex.wholeMatch(in: path)) != nil
        case .allLinear, .automatic: return false
        }
    }
}

/// The layer index in a module path (`transformer.h.3.attn` → 3), as Hugging Face PEFT finds it: the
/// first numeric segment with a next segment and, without `layersPattern`, at least two segments before
/// it; with `layersPattern`, right after one of its names.
func layerIndex(in path: String, layersPattern: [String]?) -> Int? {
    let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    for index in segments.indices where index + 1 < segments.count && !segments[index].isEmpty {
        guard segments[index].allSatisfy(\.isASCIIDigit), let number = Int(segments[index]) else {
            continue
        }
        if let layersPattern, !layersPattern.isEmpty {
            if index >= 1 && layersPattern.contains(segments[index - 1]) { return number }
        } else if index >= 2 {
            return number
        }
    }
    return nil
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Names close to `requested`, for "did you mean" messages (Levenshtein distance on the last segment).
func closestNames(to requested: String, among candidates: [String], limit: Int = 3) -> [String] {
    func distance(_ a: String, _ b: String) -> Int {
        let (x, y) = (Array(a), Array(b))
        var previous = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var current = [i] + [Int](repeating: 0, count: y.count)
            for j in 1...max(y.count, 1) where !y.isEmpty {
                current[j] = min(
                    previous[j] + 1, current[j - 1] + 1,
                    previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
    return candidates.sorted { distance(requested, $0) < distance(requested, $1) }.prefix(limit).map
    { $0 }
}

/// The paths of the modules a method targets, in tree order, as PEFT selects them.
///
/// A module is taken when its path matches `targets`, is not `excluded`, sits in one of
/// `layersToTransform` (when given), and `isSupported` accepts its kind; a listed name that matches a
/// module of another kind is an error, and so is matching nothing, which names the candidates and the
/// closest ones. The bases inside layers a method already wrapped are never matched again.
func matchModules(
    in model: Module, targets: TargetModules, excluded: TargetModules?, layersToTransform: [Int]?,
    layersPattern: [String]?, outputHeads: [String], isSupported: (Module) -> Bool
) throws -> [String] {
    let modules = model.namedModules()
    let wrappedBases = Set(
        modules.compactMap {
            ($0.module as? any AdapterLayer).map { ObjectIdentifier($0.baseModule) }
        })
    var supported: [String] = []
    var matched: [String] = []
    for (path, module) in modules
    where !path.isEmpty && !wrappedBases.contains(ObjectIdentifier(module)) {
        let accepted = isSupported(module)
        if accepted { supported.append(path) }
        let named: Bool
        switch targets {
        case .allLinear:
            named = module is any LinearLayer && !outputHeads.contains(path)
        default: named = try targets.matches(path)
        }
        guard named else { continue }
        if let excluded, try excluded.matches(path) { continue }
        if let layersToTransform {
            guard let index = layerIndex(in: path, layersPattern: layersPattern),
                layersToTransform.contains(index)
            else { continue }
        }
        guard accepted else {
            if case .suffixes = targets {
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: module))")
            }
            continue
        }
        matched.append(path)
    }
    guard !matched.isEmpty else {
        let names = Array(
            Set(supported.compactMap { $0.split(separator: ".").last.map(String.init) })
        ).sorted()
        let requested: [String]
        switch targets {
        case .suffixes(let list): requested = list
        case .pattern(let pattern): requested = [pattern]
        default: requested = []
        }
        let closest = Array(Set(requested.flatMap { closestNames(to: $0, among: names) })).sorted()
        throw AdapterError.noTargetMatched(
            targets: "\(requested)", candidates: names, closest: closest)
    }
    return matched
}
