// A read-only view of parsed JSON that remembers where it came from, so that every error can name
// the file and the key.

import Foundation
import PEFTJSON

/// A value from a tokenizer's JSON file together with its file name and key path.
struct JSONNode {
    let value: JSONValue?
    let file: String
    let path: String

    /// Reads and parses `url`, throwing ``TokenizerError/missingFile(file:)`` or
    /// ``TokenizerError/malformedFile(file:reason:)``.
    static func load(contentsOf url: URL) throws(TokenizerError) -> JSONNode {
        try JSONNode(parsing: [UInt8](readData(contentsOf: url)), file: url.lastPathComponent)
    }

    /// Parses `bytes`, the contents of `file`, throwing
    /// ``TokenizerError/malformedFile(file:reason:)`` for text that is not JSON or repeats a key.
    init(parsing bytes: [UInt8], file: String) throws(TokenizerError) {
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            switch error {
            case .syntax(let message, let offset):
                throw .malformedFile(
                    file: file, reason: "not valid JSON (\(message) at byte \(offset))")
            case .duplicateKey(let key):
                throw .malformedFile(file: file, reason: "the key \"\(key)\" appears twice")
            }
        }
        self.file = file
        path = ""
    }

    private init(value: JSONValue?, file: String, path: String) {
        self.value = value
        self.file = file
        self.path = path
    }

    /// Returns the bytes of `url`, throwing ``TokenizerError/missingFile(file:)``.
    static func readData(contentsOf url: URL) throws(TokenizerError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .missingFile(file: url.path)
        }
    }

    /// The member `key` of this object; a missing member (or a non-object) reads as null.
    subscript(key: String) -> JSONNode {
        JSONNode(value: value?[key], file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// True when the value is absent or JSON `null`.
    var isNull: Bool {
        switch value {
        case nil, .null?: return true
        default: return false
        }
    }

    /// The `type` field of a component, or nil when it has none.
    var typeName: String? {
        guard case .string(let name)? = self["type"].value else { return nil }
        return name
    }

    func string() throws(TokenizerError) -> String {
        guard case .string(let string)? = value else { throw mismatch("a string") }
        return string
    }

    func optionalString() throws(TokenizerError) -> String? {
        isNull ? nil : try string()
    }

    func int() throws(TokenizerError) -> Int {
        guard case .number(let text)? = value, let int = Int(text) else {
            throw mismatch("an integer")
        }
        return int
    }

    /// The largest token id a file may name: far above any real vocabulary (Gemma's is 262,144),
    /// low enough that a table of that many tokens can be built.
    static let tokenIDLimit = 1 << 24

    /// An integer that can index a vocabulary: `0..<tokenIDLimit`.
    func tokenID() throws(TokenizerError) -> Int {
        let id = try int()
        guard id >= 0 && id < Self.tokenIDLimit else {
            throw mismatch("a token id in 0..<\(Self.tokenIDLimit)")
        }
        return id
    }

    /// An integer that counts something: at least 0.
    func count() throws(TokenizerError) -> Int {
        let value = try int()
        guard value >= 0 else { throw mismatch("a count of at least 0") }
        return value
    }

    func optionalInt() throws(TokenizerError) -> Int? {
        isNull ? nil : try int()
    }

    /// The number as HF's reader (serde_json) converts it.
    func double() throws(TokenizerError) -> Double {
        guard case .number(let text)? = value, let double = serdeDouble(text) else {
            throw mismatch("a number")
        }
        return double
    }

    /// The Boolean value, or `defaultValue` when the key is absent or null.
    func bool(default defaultValue: Bool) throws(TokenizerError) -> Bool {
        if isNull { return defaultValue }
        guard case .bool(let bool)? = value else { throw mismatch("a Boolean") }
        return bool
    }

    /// Whether the value is an array.
    var isArray: Bool {
        guard case .array? = value else { return false }
        return true
    }

    func array() throws(TokenizerError) -> [JSONNode] {
        guard case .array(let elements)? = value else { throw mismatch("an array") }
        return elements.enumerated().map { index, element in
            JSONNode(value: element, file: file, path: "\(path)[\(index)]")
        }
    }

    /// The members of an object, in file order.
    func members() throws(TokenizerError) -> [(key: String, value: JSONNode)] {
        guard case .object(let members)? = value else { throw mismatch("an object") }
        return members.map { member in
            (member.key, JSONNode(value: member.value, file: file, path: "\(path).\(member.key)"))
        }
    }

    /// The error for a value of the wrong type at this path.
    func mismatch(_ expected: String) -> TokenizerError {
        .invalidValue(file: file, key: path, expected: expected)
    }

    /// The error for a component whose `type` this module does not implement.
    func unsupported() -> TokenizerError {
        .unsupportedComponent(file: file, key: path, type: typeName ?? "(no type)")
    }
}
