// Runs a parsed template against its variables, with Jinja's scoping: a `for` body has its own
// scope (so `set` inside a loop does not leak, which is what `namespace()` is for), `if` does not.
import Foundation

/// Renders nodes; one instance per render.
final class JinjaEvaluator {
    private var scopes: [[String: JinjaValue]]
    private var output = ""

    private enum LoopSignal: Error { case breakLoop, continueLoop }

    init(globals: [String: JinjaValue]) {
        scopes = [globals]
    }

    func render(_ nodes: [JinjaNode]) throws(ChatTemplateError) -> String {
        do {
            try run(nodes)
        } catch let error as ChatTemplateError {
            throw error
        } catch {
            throw .evaluation(line: 0, message: "break or continue outside a loop")
        }
        return output
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined
    }

    private func run(_ nodes: [JinjaNode]) throws {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .output(let expression):
                output += try evaluate(expression).printed
            case .conditional(let branches, let otherwise):
                var taken = false
                for (condition, body) in branches where try evaluate(condition).isTruthy {
                    try run(body)
                    taken = true
                    break
                }
                if !taken { try run(otherwise) }
            case .loop(let targets, let iterable, let filter, let body, let otherwise, let line):
                try runLoop(targets, iterable, filter, body, otherwise, line)
            case .assign(let targets, let attribute, let value, let line):
                let result = try evaluate(value)
                if let attribute {
                    guard case .namespace(let namespace) = lookup(targets[0]) else {
                        throw ChatTemplateError.evaluation(
                            line: line,
                            message:
                                "cannot set \(targets[0]).\(attribute): \(targets[0]) is not a namespace"
                        )
                    }
                    namespace.attributes[attribute] = result
                } else {
                    try assign(targets, result, line: line)
                }
            case .assignBlock(let target, let body):
                let saved = output
                output = ""
                try run(body)
                let captured = output
                output = saved
                scopes[scopes.count - 1][target] = .string(captured)
            case .breakLoop:
                throw LoopSignal.breakLoop
            case .continueLoop:
                throw LoopSignal.continueLoop
            case .generation(let body):
                try run(body)
            }
        }
    }

    private func assign(_ targets: [String], _ value: JinjaValue, line: Int) throws {
        if targets.count == 1 {
            scopes[scopes.count - 1][targets[0]] = value
            return
        }
        let items = try iterate(value, line: line)
        guard items.count == targets.count else {
            throw ChatTemplateError.evaluation(
                line: line,
                message: "cannot unpack \(items.count) values into \(targets.count) names")
        }
        for (name, item) in zip(targets, items) { scopes[scopes.count - 1][name] = item }
    }

    private func runLoop(
        _ targets: [String], _ iterable: JinjaExpression, _ filter: JinjaExpression?,
        _ body: [JinjaNode], _ otherwise: [JinjaNode], _ line: Int
    ) throws {
        var items = try iterate(try evaluate(iterable), line: line)
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append([:])
                defer { scopes.removeLast() }
                try assign(targets, item, line: line)
                if try evaluate(filter).isTruthy { kept.append(item) }
            }
            items = kept
        }
        guard !items.isEmpty else {
            try run(otherwise)
            return
        }
        for (index, item) in items.enumerated() {
            scopes.append([:])
            defer { scopes.removeLast() }
            let loop = JinjaObject([
                ("index0", .int(index)), ("index", .int(index + 1)),
                ("revindex0", .int(items.count - index - 1)),
                ("revindex", .int(items.count - index)),
                ("first", .bool(index == 0)), ("last", .bool(index == items.count - 1)),
                ("length", .int(items.count)),
                ("previtem", index > 0 ? items[index - 1] : .undefined),
                ("nextitem", index + 1 < items.count ? items[index + 1] : .undefined),
            ])
            scopes[scopes.count - 1]["loop"] = .object(loop)
            try assign(targets, item, line: line)
            do {
                try run(body)
            } catch LoopSignal.breakLoop {
                break
            } catch LoopSignal.continueLoop {
                continue
            }
        }
    }

    /// The items a `for` loop (or a filter) walks: list items, dict keys, string characters;
    /// nothing for undefined.
    func iterate(_ value: JinjaValue, line: Int) throws(ChatTemplateError) -> [JinjaValue] {
        switch value {
        case .undefined: return []
        case .array(let items): return items
        case .object(let object): return object.items.map { .string($0.key) }
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        default:
            throw .evaluation(line: line, message: "'\(value.typeName)' object is not iterable")
        }
    }

    // MARK: Expressions

    func evaluate(_ expression: JinjaExpression) throws(ChatTemplateError) -> JinjaValue {
        let line = expression.line
        switch expression.kind {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name)
        case .list(let items):
            var values: [JinjaValue] = []
            for item in items { values.append(try evaluate(item)) }
            return .array(values)
        case .dict(let pairs):
            var object = JinjaObject()
            for (key, value) in pairs {
                guard case .string(let name) = try evaluate(key) else {
                    throw .evaluation(line: line, message: "dict keys must be strings")
                }
                object[name] = try evaluate(value)
            }
            return .object(object)
        case .attribute(let base, let name):
            return try JinjaBuiltins.attribute(of: try evaluate(base), name, line: line)
        case .item(let base, let index):
            return try JinjaBuiltins.item(of: try evaluate(base), try evaluate(index), line: line)
        case .slice(let base, let start, let stop, let step):
            return try JinjaBuiltins.slice(
                try evaluate(base), start.map { e throws(ChatTemplateError) in try evaluate(e) },
                stop.map { e throws(ChatTemplateError) in try evaluate(e) },
                step.map { e throws(ChatTemplateError) in try evaluate(e) }, line: line)
        case .call(let function, let arguments, let keywords):
            let callee = try evaluate(function)
            guard case .callable(let callable) = callee else {
                throw .evaluation(
                    line: line, message: "'\(callee.typeName)' object is not callable")
            }
            let (values, named) = try evaluateArguments(arguments, keywords)
            do {
                return try callable.call(values, named)
            } catch let error as ChatTemplateError {
                throw error.at(line: line)
            } catch {
                throw .evaluation(line: line, message: "\(error)")
            }
        case .filter(let base, let name, let arguments, let keywords):
            let value = try evaluate(base)
            let (values, named) = try evaluateArguments(arguments, keywords)
            return try JinjaBuiltins.filter(name, value, values, named, line: line, evaluator: self)
        case .test(let base, let name, let arguments, let negated):
            let value = try evaluate(base)
            var values: [JinjaValue] = []
            for argument in arguments { values.append(try evaluate(argument)) }
            let result = try JinjaBuiltins.test(name, value, values, line: line)
            return .bool(result != negated)
        case .not(let operand):
            return .bool(!(try evaluate(operand).isTruthy))
        case .negate(let operand):
            let value = try evaluate(operand)
            switch value {
            case .int(let number): return .int(-number)
            case .double(let number): return .double(-number)
            case .bool(let flag): return .int(flag ? -1 : 0)
            default:
                throw .evaluation(
                    line: line, message: "bad operand type for unary -: '\(value.typeName)'")
            }
        case .and(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case .or(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map { e throws(ChatTemplateError) in try evaluate(e) }
                ?? .undefined
        case .binary(let op, let left, let right):
            return try JinjaBuiltins.binary(op, try evaluate(left), try evaluate(right), line: line)
        }
    }

    private func evaluateArguments(
        _ arguments: [JinjaExpression], _ keywords: [(String, JinjaExpression)]
    ) throws(ChatTemplateError) -> ([JinjaValue], [(String, JinjaValue)]) {
        var values: [JinjaValue] = []
        for argument in arguments { values.append(try evaluate(argument)) }
        var named: [(String, JinjaValue)] = []
        for (name, argument) in keywords { named.append((name, try evaluate(argument))) }
        return (values, named)
    }
}

extension ChatTemplateError {
    /// The error with `line` filled in where the callee could not know it.
    func at(line: Int) -> ChatTemplateError {
        switch self {
        case .evaluation(0, let message): return .evaluation(line: line, message: message)
        case .raised(0, let message): return .raised(line: line, message: message)
        default: return self
        }
    }
}
