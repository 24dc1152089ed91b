// The one JSON reader of the package, for safetensors headers, shard indexes and tokenizer files.
//
// Foundation's JSONSerialization will not do for either: it keeps one of two duplicate keys
// silently (a safetensors header must reject them), merges keys that are canonically equivalent
// ("é" and "e\u{301}" are two tokens of a vocabulary), and turns every number into a Double, so
// large integers are rounded and decimals are not read the way Hugging Face's Rust reader reads
// them. Here objects keep their members in file order with their keys as written, and numbers
// keep their text.

/// A parsed JSON value whose objects keep their members in file order and whose numbers keep
/// their literal text.
package enum JSONValue: Sendable {
    /// An object's members in file order, keys exactly as written (no Unicode normalization).
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string.
    case string(String)
    /// A number, kept as its literal text so that integers read without rounding and decimals
    /// can be converted the way the file's writer expects.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// The value as an `Int`, if it is an integer literal that fits.
    package var intValue: Int? {
        if case .number(let literal) = self { return Int(literal) }
        return nil
    }

    /// The value as a string, if it is one.
    package var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The member `key` of an object, compared scalar by scalar (`==` on `String` would also match
    /// a canonically equivalent key); nil for a missing member or a value that is not an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// A short name for the kind of value, for error messages: "an object", "a number".
    package var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
