// `peft train -c run.yaml`: a YAML file of `peft train`'s options, as mlx-lm's `lora -c` reads one.
import ArgumentParser
import Foundation
import Yams

/// A YAML file whose keys are `peft train`'s long option names, turned into command-line
/// arguments placed before the ones typed, so that a flag on the command line overrides the file
/// (a single-valued option keeps its last value).
///
/// ```yaml
/// random-model: micro
/// data: train.jsonl        # relative to this file's folder
/// batch_size: 4            # underscores are accepted for hyphens
/// targets: [c_attn, c_proj]
/// json: true
/// ```
enum TrainConfigurationFile {
    /// The random-model presets that `--config` still names (deprecated for `--random-model`).
    static let randomModelPresets = ["micro", "tiny", "small"]

    /// Options whose relative paths are read from the file's folder: they name inputs kept beside
    /// it. `out` and `resume` stay relative to the working directory, where a run writes.
    static let inputPathKeys: Set<String> = ["model", "data", "val-data"]

    /// `arguments` (without the program name) with `-c FILE`, `--config-file FILE` or a
    /// `--config FILE` that is not a preset replaced by the file's options, for `train` only.
    static func expand(_ arguments: [String]) throws -> [String] {
        guard arguments.first == "train" else { return arguments }
        var rest: [String] = []
        var file: (option: String, path: String)?
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            let (name, inlineValue) = split(argument)
            let isFileOption =
                name == "-c" || name == "--config-file"
                || (name == "--config"
                    && (inlineValue ?? arguments[safe: index + 1]).map {
                        !randomModelPresets.contains($0) && !$0.hasPrefix("-")
                    } ?? false)
            guard isFileOption else {
                rest.append(argument)
                index += 1
                continue
            }
            guard let value = inlineValue ?? arguments[safe: index + 1] else {
                throw CommandError("\(name): give the YAML file to read")
            }
            guard file == nil else {
                throw CommandError("\(name): give one configuration file, not several")
            }
            file = (name, value)
            index += inlineValue == nil ? 2 : 1
        }
        guard let file else { return arguments }
        return ["train"]
            + (try options(inFile: URL(fileURLWithPath: file.path), option: file.option)) + rest
    }

    /// The command-line arguments that the YAML file at `url`, given with `option`, stands for.
    static func options(inFile url: URL, option: String = "-c") throws -> [String] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            let preset =
                option == "--config"
                ? " is not a random model (micro, tiny or small, now --random-model) and" : ":"
            throw CommandError(
                "\(option) \(url.path)\(preset) cannot be read as a YAML file "
                    + "(\(error.localizedDescription))")
        }
        return try options(inYAML: text, path: url.path, folder: url.deletingLastPathComponent())
    }

    /// The arguments for the YAML `text` (named `path` in errors), with input paths resolved
    /// against `folder`.
    static func options(inYAML text: String, path: String, folder: URL) throws -> [String] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw CommandError("\(path): not valid YAML (\(error))")
        }
        guard let root else { return [] }  // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw CommandError("\(path): the file must be a mapping of option names to values")
        }
        let known = TrainOptionNames.current
        var arguments: [String] = []
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            let line = keyNode.mark.map { ":\($0.line)" } ?? ""
            guard let rawKey = keyNode.string else {
                throw CommandError("\(path)\(line): a key that is not a string")
            }
            let key = rawKey.replacingOccurrences(of: "_", with: "-")
            guard !["config-file", "c"].contains(key) else {
                throw CommandError(
                    "\(path)\(line): '\(rawKey)': a configuration file cannot name another")
            }
            guard let kind = known.kinds[key] else {
                let nearest = nearestName(to: key, among: Array(known.kinds.keys))
                throw CommandError(
                    "\(path)\(line): unknown key '\(rawKey)'"
                        + (nearest.map { "; did you mean '\($0)'?" } ?? ""))
            }
            guard seen.insert(key).inserted else {
                throw CommandError("\(path)\(line): '\(rawKey)' is given twice")
            }
            if value.null != nil { continue }  // `key:` or `key: null` keeps the default
            switch kind {
            case .flag:
                guard let on = value.bool else {
                    throw CommandError("\(path)\(line): '\(rawKey)' is a flag: give true or false")
                }
                // `false` is written out as `--no-NAME` rather than left to the default; a typed
                // `--no-NAME` after the file's `--NAME` wins (the flags choose the last one).
                if on {
                    arguments.append("--\(key)")
                } else if known.kinds["no-\(key)"] != nil {
                    arguments.append("--no-\(key)")
                }
            case .option:
                let text: String
                switch value {
                case .scalar(let scalar): text = scalar.string
                case .sequence(let sequence):
                    // A list is what a comma-separated option (targets) reads.
                    let items = sequence.map { $0.string }
                    guard items.allSatisfy({ $0 != nil }) else {
                        throw CommandError("\(path)\(line): '\(rawKey)': a list of plain values")
                    }
                    text = items.map { $0! }.joined(separator: ",")
                default:
                    throw CommandError("\(path)\(line): '\(rawKey)' takes a single value")
                }
                let resolved =
                    inputPathKeys.contains(key) && !text.hasPrefix("/")
                    ? folder.appendingPathComponent(text).path : text
                arguments += ["--\(key)", resolved]
            }
        }
        return arguments
    }

    /// `--name=value` split at the first `=`; other arguments as they are.
    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else {
            return (argument, nil)
        }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// The name closest to `key` by edit distance, if any is within half of its length.
    static func nearestName(to key: String, among names: [String]) -> String? {
        let scored = names.map { ($0, editDistance(key, $0)) }
        guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { return nil }
        return best.1 <= max(2, key.count / 2) ? best.0 : nil
    }

    /// Levenshtein distance: insertions, deletions and substitutions of characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(
                    previous[j] + 1, current[j - 1] + 1,
                    previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// `peft train`'s long option names and whether each takes a value, read from the command's own
/// declaration so that the YAML keys never drift from the flags.
struct TrainOptionNames {
    /// Whether a named argument is a flag or takes a value.
    enum Kind { case flag, option }
    /// The kind of every long name but `help`.
    let kinds: [String: Kind]

    /// The names of ``Train`` as ArgumentParser describes it.
    static let current: TrainOptionNames = {
        var kinds: [String: Kind] = [:]
        let dump = Train._dumpHelp()
        let object = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any]
        let command = object?["command"] as? [String: Any]
        for argument in command?["arguments"] as? [[String: Any]] ?? [] {
            let kind: Kind? =
                switch argument["kind"] as? String {
                case "flag": .flag
                case "option": .option
                default: nil
                }
            guard let kind else { continue }
            for name in argument["names"] as? [[String: Any]] ?? []
            where name["kind"] as? String == "long" {
                if let long = name["name"] as? String, long != "help" { kinds[long] = kind }
            }
        }
        return TrainOptionNames(kinds: kinds)
    }()
}

extension Array {
    /// The element at `index`, or nil past the end.
    fileprivate subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
