import Foundation
import PEFTJSON

/// A value a chat template computes with: Python's `None`, booleans, numbers, strings, lists and
/// dicts (kept in insertion order, as Python's are), plus Jinja's undefined and the callables a
/// template can call (`raise_exception`, string and dict methods).
public enum JinjaValue: Sendable {
    /// A name or key that does not exist: prints as nothing, is falsy, fails in arithmetic.
    case undefined
    /// Python's `None` (JSON `null`).
    case none
    /// A boolean.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A string.
    case string(String)
    /// A list (or tuple).
    case array([JinjaValue])
    /// A dict, in insertion order.
    case object(JinjaObject)
    /// A `namespace()`, whose attributes `set ns.name = ...` changes from inside loops.
    case namespace(JinjaNamespace)
    /// A function or bound method.
    case callable(JinjaCallable)

    /// Reads JSON text (a conversation, a tool list) as template values.
    public init(json text: String) throws(ChatTemplateError) {
        do {
            self.init(try JSONParser.parse(Array(text.utf8)))
        } catch {
            throw .invalidConversation("not valid JSON (\(error))")
        }
    }

    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let value): self = .bool(value)
        case .string(let value): self = .string(value)
        case .number(let literal):
            if let integer = Int(literal) {
                self = .int(integer)
            } else {
                self = .double(Double(literal) ?? .nan)
            }
        case .array(let elements): self = .array(elements.map(JinjaValue.init))
        case .object(let members):
            self = .object(JinjaObject(members.map { ($0.key, JinjaValue($0.value)) }))
        }
    }

    /// Jinja's truthiness: Python's, with undefined false.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .double(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .array(let value): return !value.isEmpty
        case .object(let value): return !value.isEmpty
        case .namespace, .callable: return true
        }
    }

    /// What `{{ value }}` prints: Python's `str()`, and nothing for undefined.
    var printed: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return repr
        }
    }

    /// Python's `repr()`, which lists and dicts print their items with.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .double(let value): return Self.pythonFloat(value)
        case .string(let value): return Self.pythonQuoted(value)
        case .array(let values): return "[" + values.map(\.repr).joined(separator: ", ") + "]"
        case .object(let object):
            let items = object.items.map { Self.pythonQuoted($0.key) + ": " + $0.value.repr }
            return "{" + items.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case .callable: return "<function>"
        }
    }

    /// Python's `repr(float)`: `1.0`, `0.5`, `1e-05`, `inf`.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e16 { return String(Int(value)) + ".0" }
        return String(value)
    }

    /// Python's `repr(str)`: single quotes unless the text has one and no double quote.
    static func pythonQuoted(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if Character(scalar) == quote {
                    result += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += String(format: "\\x%02x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result.append(quote)
        return result
    }

    /// The name of the value's Python type, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    /// Python's `==`: deep for lists and dicts, numeric across int, float and bool.
    func equals(_ other: JinjaValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count
                && a.items.allSatisfy { item in b[item.key].map { item.value.equals($0) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let a = number, let b = other.number { return a == b }
            return false
        }
    }

    /// The value as a number, for arithmetic and comparison (bools count, as in Python).
    var number: Double? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The value as an integer, when it is one (bools count).
    var integer: Int? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return value
        default: return nil
        }
    }
}

/// A dict that keeps its keys in insertion order, as Python's does.
public struct JinjaObject: Sendable {
    /// The key-value pairs in order.
    public private(set) var items: [(key: String, value: JinjaValue)]
    private var index: [String: Int]

    /// A dict of `items`; a repeated key keeps its first place and its last value.
    public init(_ items: [(String, JinjaValue)] = []) {
        self.items = []
        index = [:]
        for (key, value) in items { self[key] = value }
    }

    /// The number of keys.
    public var count: Int { items.count }
    /// Whether the dict has no keys.
    public var isEmpty: Bool { items.isEmpty }

    /// The value of `key`, or `nil` when the dict does not have it.
    public subscript(key: String) -> JinjaValue? {
        get { index[key].map { items[$0].value } }
        set {
            if let position = index[key] {
                if let newValue {
                    items[position].value = newValue
                } else {
                    items.remove(at: position)
                    index = Dictionary(
                        uniqueKeysWithValues: items.enumerated().map { ($1.key, $0) })
                }
            } else if let newValue {
                index[key] = items.count
                items.append((key, newValue))
            }
        }
    }
}

/// The mutable attributes of a template's `namespace()`.
public final class JinjaNamespace: @unchecked Sendable {
    /// The attributes set so far.
    var attributes: JinjaObject

    init(_ attributes: JinjaObject) { self.attributes = attributes }
}

/// A function a template can call, with positional and keyword arguments.
public struct JinjaCallable: Sendable {
    /// Runs the function; errors are reported at the caller's line.
    let call: @Sendable ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue
}
