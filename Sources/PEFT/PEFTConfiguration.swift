import Foundation

/// The settings of one adapter: plain data with Hugging Face PEFT's defaults, stored as
/// `adapter_config.json` with PEFT's keys so the same file works in Python.
///
/// A configuration names the method that applies it, so ``PEFTModel`` can drive any method, including
/// one defined outside this library, from its configuration alone. Register the type with
/// ``AdapterConfigurationRegistry/register(_:)`` to make folders of its `peft_type` loadable.
public protocol PEFTConfiguration: Codable, Sendable {
    /// The method that applies this configuration to a model.
    associatedtype Method: PEFTMethod where Method.Configuration == Self
    /// PEFT's `peft_type` for this method (`LORA`, `IA3`, `PROMPT_TUNING`, ...).
    static var peftType: String { get }
    /// `task_type`: `CAUSAL_LM`, `SEQ_2_SEQ_LM`, or `nil`.
    var taskType: String? { get set }
    /// `base_model_name_or_path`, recorded for the reader.
    var baseModelNameOrPath: String? { get set }
    /// `modules_to_save`: whole modules the adapter trains in full and saves beside its own tensors.
    ///
    /// A `SEQ_CLS` adapter always saves the classification head (`classifier`, `score`), as Hugging
    /// Face PEFT's `PeftModelForSequenceClassification` adds them; the container records them here
    /// when the configuration stores the key.
    var modulesToSave: [String]? { get set }
}

extension PEFTConfiguration {
    /// No module is saved in full unless the configuration says so; a configuration without the key
    /// ignores what the container records.
    public var modulesToSave: [String]? {
        get { nil }
        set {}
    }
}

/// The head names Hugging Face PEFT saves in full for `task_type` `SEQ_CLS`.
let sequenceClassificationHeads = ["classifier", "score"]

extension KeyedDecodingContainer {
    /// Checks the `peft_type` at `key` names `expected`; `required` makes an absent one an error too.
    public func checkPEFTType(_ expected: String, forKey key: Key, required: Bool = false) throws {
        let type =
            try required
            ? decode(String.self, forKey: key) : decodeIfPresent(String.self, forKey: key)
        if let type, type != expected {
            throw AdapterError.invalidConfiguration(
                key: "peft_type", reason: "expected \(expected), found \(type)")
        }
    }
}

/// Encoding helpers for configurations whose JSON fields take several shapes, as PEFT's do.
extension KeyedDecodingContainer {
    /// A string, a list of strings, or null.
    func decodeStringOrList(forKey key: Key) throws -> StringOrList? {
        if try !contains(key) || decodeNil(forKey: key) { return nil }
        if let string = try? decode(String.self, forKey: key) { return .string(string) }
        if let list = try? decode([String].self, forKey: key) { return .list(list) }
        throw DecodingError.typeMismatch(
            String.self,
            .init(
                codingPath: codingPath + [key],
                debugDescription: "expected a string or a list of strings"))
    }

    /// An integer, a list of integers, or null.
    func decodeIntOrList(forKey key: Key) throws -> [Int]? {
        if try !contains(key) || decodeNil(forKey: key) { return nil }
        if let value = try? decode(Int.self, forKey: key) { return [value] }
        if let list = try? decode([Int].self, forKey: key) { return list }
        throw DecodingError.typeMismatch(
            Int.self,
            .init(
                codingPath: codingPath + [key],
                debugDescription: "expected an integer or a list of integers"))
    }
}

/// A JSON field that holds either a string or a list of strings.
public enum StringOrList: Equatable, Sendable, Codable {
    /// One string (PEFT reads it as a regular expression).
    case string(String)
    /// A list of strings.
    case list([String])

    /// Decodes either shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .list(try container.decode([String].self))
        }
    }

    /// Encodes the shape it holds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let string): try container.encode(string)
        case .list(let list): try container.encode(list)
        }
    }
}

/// Reads and writes `adapter_config.json` as PEFT does: sorted keys, two-space indentation, and
/// `inference_mode: true` in the saved file.
enum AdapterConfigurationFile {
    static func encode(_ configuration: some PEFTConfiguration) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(configuration)
    }

    /// The `peft_type` recorded in a configuration file.
    static func peftType(of data: Data, file: String) throws -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AdapterError.folder(path: file, reason: "not a JSON object")
        }
        guard let type = object["peft_type"] as? String else {
            throw AdapterError.folder(
                path: file, reason: "key 'peft_type' is missing or not a string")
        }
        return type
    }

    static func decode<C: PEFTConfiguration>(_ type: C.Type, from data: Data, file: String) throws
        -> C
    {
        do {
            return try JSONDecoder().decode(C.self, from: data)
        } catch let error as AdapterError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(
            _, context),
            let DecodingError.dataCorrupted(context)
        {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw AdapterError.folder(
                path: file, reason: "key '\(key)': \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw AdapterError.folder(
                path: file, reason: "required key '\(key.stringValue)' is missing")
        } catch {
            throw AdapterError.folder(path: file, reason: "\(error)")
        }
    }
}
