import Foundation
import PEFTJSON

/// The index of a sharded checkpoint, `model.safetensors.index.json`: the shard of each tensor.
///
/// The file is `{"metadata": {...}, "weight_map": {tensor name: shard file name}}`. Shard names are
/// checked when the index is read: a name that contains `/` or `\` or is `.` or `..` would reach
/// outside the checkpoint's folder, and is rejected.
public struct SafeTensorsIndex: Sendable {
    /// The index's `metadata`, with numbers (such as `total_size`) given as their JSON text.
    public var metadata: [String: String]
    /// The shard file name holding each tensor.
    public var weightMap: [String: String]

    /// The total byte size of all tensors, from `metadata.total_size`, if present.
    public var totalSize: Int? {
        metadata["total_size"].flatMap { Int($0) }
    }

    /// The distinct shard file names, sorted.
    public var shardNames: [String] {
        Set(weightMap.values).sorted()
    }

    /// Reads and validates the index at `url`.
    ///
    /// - Throws: ``SafeTensorsError/fileUnreadable(file:reason:)``,
    ///   ``SafeTensorsError/invalidIndex(file:reason:)`` or
    ///   ``SafeTensorsError/unsafeShardName(file:tensor:shard:)``.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.fileUnreadable(
                file: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, name: url.path)
    }

    /// Validates the index JSON in `data`, using `name` in error messages.
    ///
    /// - Throws: ``SafeTensorsError/invalidIndex(file:reason:)`` or
    ///   ``SafeTensorsError/unsafeShardName(file:tensor:shard:)``.
    public init(data: Data, name: String) throws {
        let root: JSONValue
        do {
            root = try JSONParser.parse([UInt8](data))
        } catch {
            switch error {
            case .duplicateKey(let key):
                throw SafeTensorsError.invalidIndex(
                    file: name, reason: "the key '\(key)' is repeated")
            case .syntax(let reason, let offset):
                throw SafeTensorsError.invalidIndex(
                    file: name, reason: "not valid JSON at byte \(offset): \(reason)")
            }
        }
        guard case .object(let entries) = root else {
            throw SafeTensorsError.invalidIndex(
                file: name, reason: "the top level is not an object")
        }
        var metadata: [String: String] = [:]
        if let value = entries.first(where: { $0.key == "metadata" })?.value {
            guard case .object(let pairs) = value else {
                throw SafeTensorsError.invalidIndex(
                    file: name, reason: "'metadata' is not an object")
            }
            for (key, value) in pairs {
                switch value {
                case .string(let text), .number(let text): metadata[key] = text
                default: continue
                }
            }
        }
        guard case .object(let pairs)? = entries.first(where: { $0.key == "weight_map" })?.value
        else {
            throw SafeTensorsError.invalidIndex(
                file: name, reason: "'weight_map' is missing or not an object")
        }
        var weightMap: [String: String] = [:]
        for (tensor, value) in pairs {
            guard let shard = value.stringValue else {
                throw SafeTensorsError.invalidIndex(
                    file: name, reason: "the shard of tensor '\(tensor)' is not a string")
            }
            guard Self.isPlainFileName(shard) else {
                throw SafeTensorsError.unsafeShardName(file: name, tensor: tensor, shard: shard)
            }
            // Keys the parser saw as distinct can still be one canonically equivalent `String`.
            guard weightMap.updateValue(shard, forKey: tensor) == nil else {
                throw SafeTensorsError.invalidIndex(
                    file: name, reason: "the key '\(tensor)' is repeated")
            }
        }
        self.metadata = metadata
        self.weightMap = weightMap
    }

    /// Whether `name` names a file directly inside a folder, not a path that leaves it.
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/")
            && !name.contains("\\") && !name.contains("\0")
    }
}
