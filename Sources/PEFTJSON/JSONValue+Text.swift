// Compact JSON text, for the safetensors writer.

extension JSONValue {
    /// The value as compact JSON text, with object keys in the order they are stored.
    package var jsonText: String {
        switch self {
        case .object(let members):
            let parts = members.map { "\(Self.quoted($0.key)):\($0.value.jsonText)" }
            return "{" + parts.joined(separator: ",") + "}"
        case .array(let elements):
            return "[" + elements.map(\.jsonText).joined(separator: ",") + "]"
        case .string(let string):
            return Self.quoted(string)
        case .number(let literal):
            return literal
        case .bool(let value):
            return value ? "true" : "false"
        case .null:
            return "null"
        }
    }

    /// `string` as a JSON string literal, escaping quotes, backslashes and control characters.
    package static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
