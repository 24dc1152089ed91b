// transformers' `tojson` filter: Python's `json.dumps(value, ensure_ascii=False, indent=indent)`.

enum JinjaJSON {
    static func dumps(_ value: JinjaValue, indent: Int?, line: Int) throws(ChatTemplateError)
        -> String
    {
        var output = ""
        try write(value, indent: indent, depth: 0, into: &output, line: line)
        return output
    }

    private static func write(
        _ value: JinjaValue, indent: Int?, depth: Int, into output: inout String, line: Int
    ) throws(ChatTemplateError) {
        let itemSeparator = indent == nil ? ", " : ","
        func newline(_ level: Int) {
            if let indent { output += "\n" + String(repeating: " ", count: indent * level) }
        }
        switch value {
        case .none, .undefined: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number):
            output +=
                number.isNaN
                ? "NaN"
                : number.isInfinite
                    ? (number > 0 ? "Infinity" : "-Infinity") : JinjaValue.pythonFloat(number)
        case .string(let text): output += quoted(text)
        case .array(let items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += itemSeparator }
                newline(depth + 1)
                try write(item, indent: indent, depth: depth + 1, into: &output, line: line)
            }
            newline(depth)
            output += "]"
        case .object(let object):
            try writeObject(object, indent: indent, depth: depth, into: &output, line: line)
        case .namespace(let namespace):
            try writeObject(
                namespace.attributes, indent: indent, depth: depth, into: &output, line: line)
        case .callable:
            throw .evaluation(
                line: line, message: "Object of type function is not JSON serializable")
        }
    }

    private static func writeObject(
        _ object: JinjaObject, indent: Int?, depth: Int, into output: inout String, line: Int
    ) throws(ChatTemplateError) {
        guard !object.isEmpty else {
            output += "{}"
            return
        }
        output += "{"
        for (index, item) in object.items.enumerated() {
            if index > 0 { output += indent == nil ? ", " : "," }
            if let indent { output += "\n" + String(repeating: " ", count: indent * (depth + 1)) }
            output += quoted(item.key) + ": "
            try write(item.value, indent: indent, depth: depth + 1, into: &output, line: line)
        }
        if let indent { output += "\n" + String(repeating: " ", count: indent * depth) }
        output += "}"
    }

    /// A JSON string literal with only what `ensure_ascii=False` escapes.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
