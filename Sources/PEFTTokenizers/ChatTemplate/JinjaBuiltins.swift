// Jinja's operators, filters and tests, and the Python string and dict methods templates call,
// with Python's semantics where chat templates rely on them.
import Foundation

enum JinjaBuiltins {
    typealias Arguments = [JinjaValue]
    typealias Keywords = [(String, JinjaValue)]

    static func fail(_ line: Int, _ message: String) -> ChatTemplateError {
        .evaluation(line: line, message: message)
    }

    // MARK: Access

    /// `value.name`: a dict method or key (Jinja tries the attribute first), a string method.
    static func attribute(of value: JinjaValue, _ name: String, line: Int) throws(ChatTemplateError)
        -> JinjaValue
    {
        switch value {
        case .undefined:
            throw fail(line, "cannot read attribute '\(name)' of an undefined value")
        case .object(let object):
            if let method = dictMethod(object, name) { return method }
            return object[name] ?? .undefined
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined
        case .string(let text):
            return stringMethod(text, name) ?? .undefined
        default:
            return .undefined
        }
    }

    /// `value[index]`: a key, then a method; a list or string position, negative from the end.
    static func item(of value: JinjaValue, _ index: JinjaValue, line: Int) throws(ChatTemplateError)
        -> JinjaValue
    {
        switch (value, index) {
        case (.undefined, _):
            throw fail(line, "cannot subscript an undefined value")
        case (.object(let object), .string(let key)):
            return object[key] ?? dictMethod(object, key) ?? .undefined
        case (.namespace(let namespace), .string(let key)):
            return namespace.attributes[key] ?? .undefined
        case (.array(let items), _):
            guard var position = index.integer else { return .undefined }
            if position < 0 { position += items.count }
            return items.indices.contains(position) ? items[position] : .undefined
        case (.string(let text), _):
            // Python indexes code points, not grapheme clusters.
            let scalars = Array(text.unicodeScalars)
            guard var position = index.integer else { return .undefined }
            if position < 0 { position += scalars.count }
            return scalars.indices.contains(position)
                ? .string(String(scalars[position])) : .undefined
        default:
            return .undefined
        }
    }

    /// Python's `value[start:stop:step]` on lists and strings.
    static func slice(
        _ value: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?,
        line: Int
    ) throws(ChatTemplateError) -> JinjaValue {
        func indices(_ count: Int) throws(ChatTemplateError) -> [Int] {
            let stride = step?.integer ?? 1
            guard stride != 0 else { throw fail(line, "slice step cannot be zero") }
            func bound(_ value: JinjaValue?, _ fallback: Int) -> Int {
                guard let value, case .some(var number) = value.integer else { return fallback }
                if number < 0 { number += count }
                return stride > 0 ? min(max(number, 0), count) : min(max(number, -1), count - 1)
            }
            let from = bound(start, stride > 0 ? 0 : count - 1)
            let to = bound(stop, stride > 0 ? count : -1)
            return Array(Swift.stride(from: from, to: to, by: stride))
        }
        switch value {
        case .array(let items):
            return .array(try indices(items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            var result = ""
            result.unicodeScalars.append(contentsOf: try indices(scalars.count).map { scalars[$0] })
            return .string(result)
        default:
            throw fail(line, "'\(value.typeName)' object is not subscriptable")
        }
    }

    // MARK: Operators

    static func binary(_ op: String, _ left: JinjaValue, _ right: JinjaValue, line: Int)
        throws(ChatTemplateError) -> JinjaValue
    {
        switch op {
        case "==": return .bool(left.equals(right))
        case "!=": return .bool(!left.equals(right))
        case "in", "not in":
            let contained: Bool
            switch right {
            case .string(let text):
                guard case .string(let part) = left else {
                    throw fail(
                        line, "'in <string>' requires a string on the left, not '\(left.typeName)'")
                }
                contained = part.isEmpty || text.contains(part)
            case .array(let items): contained = items.contains { $0.equals(left) }
            case .object(let object):
                if case .string(let key) = left {
                    contained = object[key] != nil
                } else {
                    contained = false
                }
            case .undefined: contained = false
            default:
                throw fail(line, "argument of type '\(right.typeName)' is not iterable")
            }
            return .bool(contained == (op == "in"))
        case "~":
            return .string(left.printed + right.printed)
        case "<", "<=", ">", ">=":
            let order: ComparisonResult
            if case .string(let a) = left, case .string(let b) = right {
                order =
                    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
                    ? .orderedAscending : (a == b ? .orderedSame : .orderedDescending)
            } else if let a = left.number, let b = right.number {
                order = a < b ? .orderedAscending : (a == b ? .orderedSame : .orderedDescending)
            } else {
                throw fail(
                    line,
                    "'\(op)' is not supported between '\(left.typeName)' and '\(right.typeName)'")
            }
            switch op {
            case "<": return .bool(order == .orderedAscending)
            case "<=": return .bool(order != .orderedDescending)
            case ">": return .bool(order == .orderedDescending)
            default: return .bool(order != .orderedAscending)
            }
        default:
            return try arithmetic(op, left, right, line: line)
        }
    }

    private static func arithmetic(_ op: String, _ left: JinjaValue, _ right: JinjaValue, line: Int)
        throws(ChatTemplateError) -> JinjaValue
    {
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .array(let a), .array(let b)): return .array(a + b)
        case ("*", .string(let a), _) where right.integer != nil:
            return .string(String(repeating: a, count: max(0, right.integer!)))
        default: break
        }
        if case .undefined = left {
            throw fail(line, "an undefined value is used with '\(op)'")
        }
        if case .undefined = right {
            throw fail(line, "an undefined value is used with '\(op)'")
        }
        if let a = left.integer, let b = right.integer {
            switch op {
            case "+": return .int(a + b)
            case "-": return .int(a - b)
            case "*": return .int(a * b)
            case "/":
                guard b != 0 else { throw fail(line, "division by zero") }
                return .double(Double(a) / Double(b))
            case "//":
                guard b != 0 else { throw fail(line, "integer division by zero") }
                return .int(Int((Double(a) / Double(b)).rounded(.down)))
            case "%":
                guard b != 0 else { throw fail(line, "modulo by zero") }
                let remainder = a % b
                return .int(
                    remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
            case "**": return .int(Int(pow(Double(a), Double(b))))
            default: break
            }
        } else if let a = left.number, let b = right.number {
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            case "//": return .double((a / b).rounded(.down))
            case "%": return .double(a - b * (a / b).rounded(.down))
            case "**": return .double(pow(a, b))
            default: break
            }
        }
        throw fail(
            line,
            "unsupported operand types for \(op): '\(left.typeName)' and '\(right.typeName)'")
    }

    // MARK: Tests

    static func test(_ name: String, _ value: JinjaValue, _ arguments: Arguments, line: Int)
        throws(ChatTemplateError) -> Bool
    {
        func argument() throws(ChatTemplateError) -> JinjaValue {
            guard let first = arguments.first else {
                throw fail(line, "the test '\(name)' needs an argument")
            }
            return first
        }
        switch name {
        case "defined": if case .undefined = value { return false } else { return true }
        case "undefined": if case .undefined = value { return true } else { return false }
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number":
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "mapping":
            switch value {
            case .object, .namespace: return true
            default: return false
            }
        case "sequence", "iterable":
            switch value {
            case .array, .object, .string: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "odd", "even":
            guard let number = value.integer else { throw fail(line, "'\(name)' needs an integer") }
            return (number % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard let number = value.integer, let divisor = try argument().integer, divisor != 0
            else {
                throw fail(line, "'divisibleby' needs integers")
            }
            return number % divisor == 0
        case "eq", "equalto", "==": return value.equals(try argument())
        case "ne", "!=": return !value.equals(try argument())
        case "lt", "lessthan", "<":
            return try binary("<", value, try argument(), line: line).isTruthy
        case "le", "<=": return try binary("<=", value, try argument(), line: line).isTruthy
        case "gt", "greaterthan", ">":
            return try binary(">", value, try argument(), line: line).isTruthy
        case "ge", ">=": return try binary(">=", value, try argument(), line: line).isTruthy
        case "in": return try binary("in", value, try argument(), line: line).isTruthy
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            default: return false
            }
        case "lower":
            guard case .string(let text) = value else { return false }
            return text == text.lowercased()
        case "upper":
            guard case .string(let text) = value else { return false }
            return text == text.uppercased()
        default:
            throw fail(line, "the test '\(name)' is not supported")
        }
    }

    // MARK: Filters

    static func filter(
        _ name: String, _ value: JinjaValue, _ arguments: Arguments, _ keywords: Keywords,
        line: Int, evaluator: JinjaEvaluator
    ) throws(ChatTemplateError) -> JinjaValue {
        func keyword(_ key: String, _ index: Int) -> JinjaValue? {
            keywords.first { $0.0 == key }?.1 ?? (arguments.count > index ? arguments[index] : nil)
        }
        func text() throws(ChatTemplateError) -> String {
            if case .undefined = value { return "" }
            return value.printed
        }
        switch name {
        case "trim":
            return .string(try text().trimmingCharacters(in: .whitespacesAndNewlines))
        case "upper": return .string(try text().uppercased())
        case "lower": return .string(try text().lowercased())
        case "capitalize":
            let string = try text()
            return .string(string.prefix(1).uppercased() + string.dropFirst().lowercased())
        case "title": return .string(try text().capitalized)
        case "string": return .string(value.printed)
        case "safe", "e", "escape", "forceescape":
            return name == "safe" ? value : .string(escapeHTML(value.printed))
        case "length", "count":
            switch value {
            case .undefined: return .int(0)
            case .string(let string): return .int(string.unicodeScalars.count)
            case .array(let items): return .int(items.count)
            case .object(let object): return .int(object.count)
            default: throw fail(line, "object of type '\(value.typeName)' has no len()")
            }
        case "default", "d":
            let fallback = keyword("default_value", 0) ?? .string("")
            let boolean = keyword("boolean", 1)?.isTruthy ?? false
            if case .undefined = value { return fallback }
            if boolean, !value.isTruthy { return fallback }
            return value
        case "tojson":
            let indent = keyword("indent", 0)?.integer
            return .string(try JinjaJSON.dumps(value, indent: indent, line: line))
        case "items":
            switch value {
            case .undefined: return .array([])
            case .object(let object):
                return .array(object.items.map { .array([.string($0.key), $0.value]) })
            default: throw fail(line, "the 'items' filter needs a dict, not '\(value.typeName)'")
            }
        case "list":
            return .array(try evaluator.iterate(value, line: line))
        case "first":
            return try evaluator.iterate(value, line: line).first ?? .undefined
        case "last":
            return try evaluator.iterate(value, line: line).last ?? .undefined
        case "reverse":
            if case .string(let string) = value { return .string(String(string.reversed())) }
            return .array(try evaluator.iterate(value, line: line).reversed())
        case "join":
            var items = try evaluator.iterate(value, line: line)
            if let attribute = keyword("attribute", 1) {
                var mapped: [JinjaValue] = []
                for item in items {
                    mapped.append(try JinjaBuiltins.item(of: item, attribute, line: line))
                }
                items = mapped
            }
            let separator = keyword("d", 0)?.printed ?? ""
            return .string(items.map(\.printed).joined(separator: separator))
        case "map":
            let items = try evaluator.iterate(value, line: line)
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1 {
                var mapped: [JinjaValue] = []
                for item in items {
                    var result = try JinjaBuiltins.item(of: item, attribute, line: line)
                    if case .undefined = result,
                        let fallback = keywords.first(where: { $0.0 == "default" })?.1
                    {
                        result = fallback
                    }
                    mapped.append(result)
                }
                return .array(mapped)
            }
            guard case .string(let filterName)? = arguments.first else {
                throw fail(line, "'map' needs a filter name or attribute=")
            }
            var mapped: [JinjaValue] = []
            for item in items {
                mapped.append(
                    try filter(
                        filterName, item, Array(arguments.dropFirst()), [], line: line,
                        evaluator: evaluator))
            }
            return .array(mapped)
        case "select", "reject", "selectattr", "rejectattr":
            let items = try evaluator.iterate(value, line: line)
            let byAttribute = name.hasSuffix("attr")
            var rest = arguments
            var attribute: JinjaValue = .undefined
            if byAttribute {
                guard !rest.isEmpty else { throw fail(line, "'\(name)' needs an attribute name") }
                attribute = rest.removeFirst()
            }
            var testName: String?
            if !rest.isEmpty {
                guard case .string(let given) = rest.removeFirst() else {
                    throw fail(line, "'\(name)' needs a test name")
                }
                testName = given
            }
            let keep = name.hasPrefix("select")
            var kept: [JinjaValue] = []
            for item in items {
                let subject =
                    byAttribute ? try JinjaBuiltins.item(of: item, attribute, line: line) : item
                let passes =
                    try testName.map { name throws(ChatTemplateError) in
                        try test(name, subject, rest, line: line)
                    } ?? subject.isTruthy
                if passes == keep { kept.append(item) }
            }
            return .array(kept)
        case "unique":
            var seen: [JinjaValue] = []
            for item in try evaluator.iterate(value, line: line)
            where !seen.contains(where: { $0.equals(item) }) {
                seen.append(item)
            }
            return .array(seen)
        case "int":
            switch value {
            case .int: return value
            case .double(let number): return .int(Int(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .string(let string):
                return .int(Int(string.trimmingCharacters(in: .whitespaces)) ?? 0)
            default: return .int(0)
            }
        case "float":
            if let number = value.number { return .double(number) }
            if case .string(let string) = value { return .double(Double(string) ?? 0) }
            return .double(0)
        case "abs":
            if case .int(let number) = value { return .int(abs(number)) }
            if let number = value.number { return .double(abs(number)) }
            throw fail(line, "bad operand type for abs(): '\(value.typeName)'")
        case "replace":
            guard arguments.count >= 2 else { throw fail(line, "'replace' needs two arguments") }
            return .string(
                try text().replacingOccurrences(
                    of: arguments[0].printed, with: arguments[1].printed))
        case "indent":
            let width = keyword("width", 0)?.integer ?? 4
            let first = keyword("first", 1)?.isTruthy ?? false
            let padding = String(repeating: " ", count: width)
            let lines = try text().components(separatedBy: "\n")
            let indented = lines.enumerated().map { index, line in
                (index == 0 && !first) || line.isEmpty ? line : padding + line
            }
            return .string(indented.joined(separator: "\n"))
        case "min", "max":
            let items = try evaluator.iterate(value, line: line)
            guard var best = items.first else { return .undefined }
            for item in items.dropFirst() {
                let isLess = try binary("<", item, best, line: line).isTruthy
                if isLess == (name == "min") { best = item }
            }
            return best
        default:
            throw fail(line, "the filter '\(name)' is not supported")
        }
    }

    static func escapeHTML(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    // MARK: Methods

    private static func method(_ body: @escaping @Sendable (Arguments) throws -> JinjaValue)
        -> JinjaValue
    {
        .callable(JinjaCallable { arguments, _ in try body(arguments) })
    }

    static func dictMethod(_ object: JinjaObject, _ name: String) -> JinjaValue? {
        switch name {
        case "items":
            return method { _ in .array(object.items.map { .array([.string($0.key), $0.value]) }) }
        case "keys": return method { _ in .array(object.items.map { .string($0.key) }) }
        case "values": return method { _ in .array(object.items.map(\.value)) }
        case "get":
            return method { arguments in
                guard case .string(let key)? = arguments.first else {
                    return arguments.count > 1 ? arguments[1] : .none
                }
                return object[key] ?? (arguments.count > 1 ? arguments[1] : .none)
            }
        default: return nil
        }
    }

    static func stringMethod(_ text: String, _ name: String) -> JinjaValue? {
        @Sendable func strip(_ arguments: Arguments, leading: Bool, trailing: Bool) -> JinjaValue {
            var set: Set<Character>?
            if case .string(let given)? = arguments.first { set = Set(given) }
            func stripped(_ character: Character) -> Bool {
                set.map { $0.contains(character) } ?? character.isWhitespace
            }
            var result = Substring(text)
            if leading { result = result.drop(while: stripped) }
            if trailing {
                while let last = result.last, stripped(last) { result = result.dropLast() }
            }
            return .string(String(result))
        }
        switch name {
        case "strip": return method { strip($0, leading: true, trailing: true) }
        case "lstrip": return method { strip($0, leading: true, trailing: false) }
        case "rstrip": return method { strip($0, leading: false, trailing: true) }
        case "upper": return method { _ in .string(text.uppercased()) }
        case "lower": return method { _ in .string(text.lowercased()) }
        case "title": return method { _ in .string(text.capitalized) }
        case "capitalize":
            return method { _ in
                .string(text.prefix(1).uppercased() + text.dropFirst().lowercased())
            }
        case "startswith", "endswith":
            return method { arguments in
                var prefixes: [String] = []
                switch arguments.first {
                case .string(let one)?: prefixes = [one]
                case .array(let many)?:
                    prefixes = many.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default:
                    throw ChatTemplateError.evaluation(line: 0, message: "\(name) needs a string")
                }
                return .bool(
                    prefixes.contains {
                        name == "startswith"
                            ? text.unicodeScalars.starts(with: $0.unicodeScalars)
                            : text.unicodeScalars.reversed().starts(
                                with: $0.unicodeScalars.reversed())
                    })
            }
        case "split":
            return method { arguments in
                let limit = arguments.count > 1 ? (arguments[1].integer ?? -1) : -1
                guard case .string(let separator)? = arguments.first, !separator.isEmpty else {
                    var parts = text.split(whereSeparator: \.isWhitespace).map(String.init)
                    if limit >= 0, parts.count > limit + 1 {
                        parts =
                            Array(parts.prefix(limit)) + [
                                parts.dropFirst(limit).joined(separator: " ")
                            ]
                    }
                    return .array(parts.map { .string($0) })
                }
                var parts = text.components(separatedBy: separator)
                if limit >= 0, parts.count > limit + 1 {
                    parts =
                        Array(parts.prefix(limit)) + [
                            parts.dropFirst(limit).joined(separator: separator)
                        ]
                }
                return .array(parts.map { .string($0) })
            }
        case "replace":
            return method { arguments in
                guard arguments.count >= 2 else {
                    throw ChatTemplateError.evaluation(
                        line: 0, message: "replace needs two arguments")
                }
                return .string(
                    text.replacingOccurrences(of: arguments[0].printed, with: arguments[1].printed))
            }
        case "join":
            return method { arguments in
                guard case .array(let items)? = arguments.first else {
                    throw ChatTemplateError.evaluation(line: 0, message: "join needs a list")
                }
                return .string(items.map(\.printed).joined(separator: text))
            }
        case "find":
            return method { arguments in
                guard case .string(let part)? = arguments.first else { return .int(-1) }
                guard let range = text.range(of: part) else { return .int(-1) }
                return .int(text.distance(from: text.startIndex, to: range.lowerBound))
            }
        case "count":
            return method { arguments in
                guard case .string(let part)? = arguments.first, !part.isEmpty else {
                    return .int(0)
                }
                return .int(text.components(separatedBy: part).count - 1)
            }
        default: return nil
        }
    }
}
