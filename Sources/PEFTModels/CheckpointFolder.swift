import Foundation
import PEFTNN
import PEFTSafeTensors

/// A local Hugging Face model folder: `config.json` and the weights, whole or sharded.
public struct CheckpointFolder {
    /// The folder.
    public let url: URL
    /// The raw bytes of `config.json`.
    public let configurationData: Data
    /// The `model_type` recorded in `config.json`.
    public let modelType: String

    /// Opens `url`, reading `config.json` and checking that weights exist.
    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw ModelLoadingError.folderNotFound(path: url.path)
        }
        self.url = url
        let configurationURL = url.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configurationURL.path) else {
            throw ModelLoadingError.missingFile(path: configurationURL.path)
        }
        configurationData = data
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelLoadingError.malformedConfig(
                file: configurationURL.path, key: "", reason: "not a JSON object")
        }
        guard let modelType = object["model_type"] as? String else {
            throw ModelLoadingError.malformedConfig(
                file: configurationURL.path, key: "model_type", reason: "missing or not a string")
        }
        self.modelType = modelType
    }

    /// The path of `config.json`, for messages.
    public var configurationPath: String { url.appendingPathComponent("config.json").path }

    /// Decodes `config.json` as `T`, turning decoding failures into errors that name the key.
    public func decodeConfiguration<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: configurationData)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(
            _, context)
        {
            throw ModelLoadingError.malformedConfig(
                file: configurationPath,
                key: context.codingPath.map(\.stringValue).joined(separator: "."),
                reason: context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ModelLoadingError.malformedConfig(
                file: configurationPath,
                key: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                reason: "required key is missing")
        } catch let error as ModelLoadingError {
            throw error
        } catch {
            throw ModelLoadingError.malformedConfig(
                file: configurationPath, key: "", reason: "\(error)")
        }
    }

    /// The weights: `model.safetensors`, or the shards listed in `model.safetensors.index.json`.
    public func weights() throws -> any TensorSource {
        let single = url.appendingPathComponent("model.safetensors")
        let index = url.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: single.path) {
            return try SafeTensorsFile(contentsOf: single)
        }
        if FileManager.default.fileExists(atPath: index.path) {
            return try ShardedSafeTensors(indexURL: index)
        }
        throw ModelLoadingError.missingFile(path: single.path)
    }
}

extension CheckpointFolder {
    /// Checks `config.json` against the weights before a model of the configuration's size is
    /// built: each entry names a tensor (under any of its alternative names) that loading needs, the
    /// shape the configuration gives it, and the keys that decide that shape. A file that does not
    /// describe its weights (a missing `hidden_size` means Llama's 4096, another family's weights
    /// hold none of the names) fails at once, instead of first allocating a model that cannot load.
    public func check(
        _ weights: any TensorSource,
        holds expected: [(names: [String], shape: [Int], keys: String)]
    ) throws {
        let present = Set(weights.tensorNames)
        for (names, shape, keys) in expected {
            guard let name = names.first(where: present.contains) else {
                throw ModelLoadingError.checkpoint(
                    file: url.path,
                    reason:
                        "the weights hold no \(names.joined(separator: " or ")), which a \(modelType) "
                        + "model with this config.json (\(keys)) needs")
            }
            let actual = try weights.shape(of: name)
            guard actual == shape else {
                throw ModelLoadingError.malformedConfig(
                    file: configurationPath, key: keys,
                    reason: "gives \(name) the shape \(shape), but the weights hold \(actual)")
            }
        }
    }
}

/// A model configuration stored as Hugging Face's `config.json`.
public protocol HuggingFaceConfiguration: Codable {
    /// The JSON keys whose values are floating-point numbers.
    static var floatingPointKeys: [String] { get }
}

extension GPT2Configuration: HuggingFaceConfiguration {
    /// Keys `transformers` reads as floats.
    public static let floatingPointKeys = [
        "layer_norm_epsilon", "resid_pdrop", "embd_pdrop", "attn_pdrop", "initializer_range",
    ]
}

extension T5Configuration: HuggingFaceConfiguration {
    /// Keys `transformers` reads as floats.
    public static let floatingPointKeys = [
        "dropout_rate", "layer_norm_epsilon", "initializer_factor",
    ]
}

/// A configuration value checked at load time, failing with the file and key.
func require(_ condition: Bool, _ file: String, _ key: String, _ reason: @autoclosure () -> String)
    throws
{
    if !condition {
        throw ModelLoadingError.malformedConfig(file: file, key: key, reason: reason())
    }
}

extension CheckpointFolder {
    /// Writes a Hugging Face model folder: `config.json` and `model.safetensors`, each atomically.
    public static func write(
        model: Module, configuration: some HuggingFaceConfiguration, to folder: URL,
        bfloat16: Bool = false
    ) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try configurationJSON(configuration).write(
            to: folder.appendingPathComponent("config.json"), options: .atomic)
        try model.saveParameters(
            to: folder.appendingPathComponent("model.safetensors"), bfloat16: bfloat16)
    }

    /// `config.json` text in which every floating-point key keeps a decimal point (`1.0`, not `1`),
    /// since `transformers` validates those fields as floats.
    static func configurationJSON(_ configuration: some HuggingFaceConfiguration) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var text = String(decoding: try encoder.encode(configuration), as: UTF8.self)
        for key in type(of: configuration).floatingPointKeys {
            let pattern = try Regex("(\"\(key)\" : -?[0-9]+)([,\\n}])")
            text = text.replacing(pattern) { match in
                "\(match.output[1].substring!).0\(match.output[2].substring!)"
            }
        }
        return Data(text.utf8)
    }
}

extension GPT2LMHeadModel {
    /// Saves this model as a Hugging Face folder that `transformers` and this library load; weights
    /// in F32, or BF16 when `bfloat16` is set.
    public func save(to folder: URL, bfloat16: Bool) throws {
        try CheckpointFolder.write(
            model: self, configuration: configuration, to: folder, bfloat16: bfloat16)
    }

    /// Saves this model as a Hugging Face folder that `transformers` and this library load.
    public func save(to folder: URL) throws { try save(to: folder, bfloat16: false) }
}

extension T5ForConditionalGeneration {
    /// Saves this model as a Hugging Face folder that `transformers` and this library load; weights
    /// in F32, or BF16 when `bfloat16` is set.
    public func save(to folder: URL, bfloat16: Bool) throws {
        try CheckpointFolder.write(
            model: self, configuration: configuration, to: folder, bfloat16: bfloat16)
    }

    /// Saves this model as a Hugging Face folder that `transformers` and this library load.
    public func save(to folder: URL) throws { try save(to: folder, bfloat16: false) }
}
