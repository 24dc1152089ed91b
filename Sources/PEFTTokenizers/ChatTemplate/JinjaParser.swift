// Reads the lexer's segments into a syntax tree: the statements transformers' chat templates use
// (`if`/`elif`/`else`, `for` with an `if` filter and `else`, `set` including `ns.attr` and block
// `set`, `break`/`continue`, `generation`) and Jinja's expression grammar.

struct JinjaParser {
    private let segments: [JinjaSegment]
    private var position = 0

    init(segments: [JinjaSegment]) {
        self.segments = segments
    }

    /// Parses the whole template.
    mutating func parse() throws(ChatTemplateError) -> [JinjaNode] {
        let (nodes, end) = try parseBlock(until: [])
        if let end {
            throw .syntax(line: end.line, message: "unexpected {% \(end.keyword) %}")
        }
        return nodes
    }

    private struct BlockEnd {
        let keyword: String
        let tokens: [JinjaToken]
        let line: Int
    }

    /// Parses nodes until a statement whose keyword is in `terminators` (returned), or the end.
    private mutating func parseBlock(until terminators: Set<String>) throws(ChatTemplateError) -> (
        [JinjaNode], BlockEnd?
    ) {
        var nodes: [JinjaNode] = []
        while position < segments.count {
            let segment = segments[position]
            position += 1
            switch segment {
            case .text(let text, _):
                nodes.append(.text(text))
            case .output(let tokens, let line):
                var expression = JinjaExpressionParser(tokens: tokens, line: line)
                nodes.append(.output(try expression.parseWhole()))
            case .statement(let tokens, let line):
                guard case .name(let keyword)? = tokens.first?.kind else {
                    throw .syntax(line: line, message: "a statement must start with a keyword")
                }
                if terminators.contains(keyword) {
                    return (nodes, BlockEnd(keyword: keyword, tokens: tokens, line: line))
                }
                nodes.append(try parseStatement(keyword, tokens: tokens, line: line))
            }
        }
        return (nodes, nil)
    }

    private mutating func expectEnd(
        _ keywords: Set<String>, opened: String, line: Int
    ) throws(ChatTemplateError) -> ([JinjaNode], BlockEnd) {
        let (nodes, end) = try parseBlock(until: keywords)
        guard let end else {
            throw .syntax(
                line: line,
                message:
                    "{% \(opened) %} is never closed (expected {% \(keywords.sorted().joined(separator: " or ")) %})"
            )
        }
        return (nodes, end)
    }

    private mutating func parseStatement(
        _ keyword: String, tokens: [JinjaToken], line: Int
    ) throws(ChatTemplateError) -> JinjaNode {
        var expression = JinjaExpressionParser(tokens: Array(tokens.dropFirst()), line: line)
        switch keyword {
        case "if":
            var branches: [(JinjaExpression, [JinjaNode])] = []
            var condition = try expression.parseWhole()
            while true {
                let (body, end) = try expectEnd(
                    ["elif", "else", "endif"], opened: "if", line: line)
                branches.append((condition, body))
                switch end.keyword {
                case "elif":
                    var next = JinjaExpressionParser(
                        tokens: Array(end.tokens.dropFirst()), line: end.line)
                    condition = try next.parseWhole()
                case "else":
                    let (otherwise, _) = try expectEnd(["endif"], opened: "else", line: end.line)
                    return .conditional(branches, otherwise: otherwise)
                default:
                    return .conditional(branches, otherwise: [])
                }
            }
        case "for":
            let targets = try expression.parseTargets()
            try expression.expectName("in")
            let iterable = try expression.parseExpression(allowConditional: false)
            var filter: JinjaExpression?
            if expression.skipName("if") {
                filter = try expression.parseExpression(allowConditional: false)
            }
            if expression.skipName("recursive") {
                throw .syntax(line: line, message: "recursive loops are not supported")
            }
            try expression.expectEnd()
            let (body, end) = try expectEnd(["else", "endfor"], opened: "for", line: line)
            var otherwise: [JinjaNode] = []
            if end.keyword == "else" {
                (otherwise, _) = try expectEnd(["endfor"], opened: "for", line: end.line)
            }
            return .loop(
                targets: targets, iterable: iterable, filter: filter, body: body,
                otherwise: otherwise, line: line)
        case "set":
            let targets = try expression.parseTargets()
            var attribute: String?
            if targets.count == 1, expression.skipSymbol(".") {
                attribute = try expression.expectAnyName()
            }
            if expression.isAtEnd {
                guard targets.count == 1, attribute == nil else {
                    throw .syntax(line: line, message: "a block set names one variable")
                }
                let (body, _) = try expectEnd(["endset"], opened: "set", line: line)
                return .assignBlock(target: targets[0], body: body)
            }
            try expression.expectSymbol("=")
            let value = try expression.parseWhole()
            return .assign(targets: targets, attribute: attribute, value: value, line: line)
        case "break":
            try expression.expectEnd()
            return .breakLoop(line: line)
        case "continue":
            try expression.expectEnd()
            return .continueLoop(line: line)
        case "generation":
            try expression.expectEnd()
            let (body, _) = try expectEnd(["endgeneration"], opened: "generation", line: line)
            return .generation(body)
        default:
            throw .syntax(line: line, message: "the statement {% \(keyword) %} is not supported")
        }
    }
}

/// Jinja's expression grammar, from the conditional down to primaries, over one tag's tokens.
struct JinjaExpressionParser {
    private let tokens: [JinjaToken]
    private var position = 0
    private let tagLine: Int

    init(tokens: [JinjaToken], line: Int) {
        self.tokens = tokens
        tagLine = line
    }

    var isAtEnd: Bool { position >= tokens.count }

    private var line: Int {
        position < tokens.count ? tokens[position].line : (tokens.last?.line ?? tagLine)
    }

    private func error(_ message: String) -> ChatTemplateError {
        .syntax(line: line, message: message)
    }

    private var current: JinjaToken.Kind? { position < tokens.count ? tokens[position].kind : nil }

    mutating func skipName(_ name: String) -> Bool {
        if current == .name(name) {
            position += 1
            return true
        }
        return false
    }

    mutating func skipSymbol(_ symbol: String) -> Bool {
        if current == .symbol(symbol) {
            position += 1
            return true
        }
        return false
    }

    private func describeCurrent() -> String {
        switch current {
        case nil: return "the end of the tag"
        case .name(let name)?: return "\"\(name)\""
        case .string(let text)?: return "the string \(JinjaValue.pythonQuoted(text))"
        case .int(let value)?: return "\(value)"
        case .double(let value)?: return "\(value)"
        case .symbol(let symbol)?: return "\"\(symbol)\""
        }
    }

    mutating func expectName(_ name: String) throws(ChatTemplateError) {
        guard skipName(name) else {
            throw error("expected \"\(name)\", found \(describeCurrent())")
        }
    }

    mutating func expectSymbol(_ symbol: String) throws(ChatTemplateError) {
        guard skipSymbol(symbol) else {
            throw error("expected \"\(symbol)\", found \(describeCurrent())")
        }
    }

    mutating func expectAnyName() throws(ChatTemplateError) -> String {
        guard case .name(let name)? = current else {
            throw error("expected a name, found \(describeCurrent())")
        }
        position += 1
        return name
    }

    mutating func expectEnd() throws(ChatTemplateError) {
        guard isAtEnd else { throw error("unexpected \(describeCurrent())") }
    }

    /// `a` or `a, b` (loop and set targets).
    mutating func parseTargets() throws(ChatTemplateError) -> [String] {
        var names = [try expectAnyName()]
        while skipSymbol(",") { names.append(try expectAnyName()) }
        return names
    }

    /// One expression that must fill the tag.
    mutating func parseWhole() throws(ChatTemplateError) -> JinjaExpression {
        let expression = try parseTuple()
        try expectEnd()
        return expression
    }

    /// `a, b` as a tuple where Jinja allows it (outputs, `set` values).
    private mutating func parseTuple() throws(ChatTemplateError) -> JinjaExpression {
        let start = line
        let first = try parseExpression()
        guard current == .symbol(",") else { return first }
        var items = [first]
        while skipSymbol(",") {
            if isAtEnd { break }
            items.append(try parseExpression())
        }
        return JinjaExpression(kind: .list(items), line: start)
    }

    mutating func parseExpression(allowConditional: Bool = true) throws(ChatTemplateError)
        -> JinjaExpression
    {
        let start = line
        let value = try parseOr()
        guard allowConditional, skipName("if") else { return value }
        let condition = try parseOr()
        var otherwise: JinjaExpression?
        if skipName("else") { otherwise = try parseExpression() }
        return JinjaExpression(
            kind: .conditional(condition, then: value, otherwise: otherwise), line: start)
    }

    private mutating func parseOr() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseAnd()
        while current == .name("or") {
            let start = line
            position += 1
            left = JinjaExpression(kind: .or(left, try parseAnd()), line: start)
        }
        return left
    }

    private mutating func parseAnd() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseNot()
        while current == .name("and") {
            let start = line
            position += 1
            left = JinjaExpression(kind: .and(left, try parseNot()), line: start)
        }
        return left
    }

    private mutating func parseNot() throws(ChatTemplateError) -> JinjaExpression {
        if current == .name("not") {
            let start = line
            position += 1
            return JinjaExpression(kind: .not(try parseNot()), line: start)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseMath1()
        while true {
            let start = line
            var op: String
            switch current {
            case .symbol(let symbol)? where ["==", "!=", "<", "<=", ">", ">="].contains(symbol):
                op = symbol
                position += 1
            case .name("in")?:
                op = "in"
                position += 1
            case .name("not")?
            where position + 1 < tokens.count && tokens[position + 1].kind == .name("in"):
                op = "not in"
                position += 2
            default:
                return left
            }
            left = JinjaExpression(kind: .binary(op, left, try parseMath1()), line: start)
        }
    }

    private mutating func parseMath1() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseConcat()
        while case .symbol(let symbol)? = current, symbol == "+" || symbol == "-" {
            let start = line
            position += 1
            left = JinjaExpression(kind: .binary(symbol, left, try parseConcat()), line: start)
        }
        return left
    }

    private mutating func parseConcat() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseMath2()
        while current == .symbol("~") {
            let start = line
            position += 1
            left = JinjaExpression(kind: .binary("~", left, try parseMath2()), line: start)
        }
        return left
    }

    private mutating func parseMath2() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parsePower()
        while case .symbol(let symbol)? = current, ["*", "/", "//", "%"].contains(symbol) {
            let start = line
            position += 1
            left = JinjaExpression(kind: .binary(symbol, left, try parsePower()), line: start)
        }
        return left
    }

    private mutating func parsePower() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseUnary()
        while current == .symbol("**") {
            let start = line
            position += 1
            left = JinjaExpression(kind: .binary("**", left, try parseUnary()), line: start)
        }
        return left
    }

    private mutating func parseUnary() throws(ChatTemplateError) -> JinjaExpression {
        let start = line
        if skipSymbol("-") {
            return try parseFilters(JinjaExpression(kind: .negate(try parseUnary()), line: start))
        }
        if skipSymbol("+") { return try parseUnary() }
        return try parseFilters(try parsePostfix(try parsePrimary()))
    }

    /// `| filter(args)` and `is [not] test(args)` chains.
    private mutating func parseFilters(_ base: JinjaExpression) throws(ChatTemplateError)
        -> JinjaExpression
    {
        var value = base
        while true {
            let start = line
            if skipSymbol("|") {
                let name = try parseDottedName()
                let (arguments, keywords) =
                    current == .symbol("(") ? try parseArguments() : ([], [])
                value = JinjaExpression(
                    kind: .filter(value, name, arguments, keywords), line: start)
                value = try parsePostfix(value)
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try parseDottedName()
                var arguments: [JinjaExpression] = []
                if current == .symbol("(") {
                    arguments = try parseArguments().0
                } else if startsPrimary {
                    arguments = [try parsePostfix(try parsePrimary())]
                }
                value = JinjaExpression(
                    kind: .test(value, name, arguments, negated: negated), line: start)
            } else {
                return value
            }
        }
    }

    /// Whether the current token can start a test's bare argument (`is divisibleby 3`).
    private var startsPrimary: Bool {
        switch current {
        case .string?, .int?, .double?: return true
        case .name(let name)?:
            return !["and", "or", "if", "else", "in", "not", "is"].contains(name)
        default: return false
        }
    }

    private mutating func parseDottedName() throws(ChatTemplateError) -> String {
        var name = try expectAnyName()
        while current == .symbol("."), position + 1 < tokens.count,
            case .name(let part) = tokens[position + 1].kind
        {
            position += 2
            name += "." + part
        }
        return name
    }

    private mutating func parseArguments() throws(ChatTemplateError) -> (
        [JinjaExpression], [(String, JinjaExpression)]
    ) {
        try expectSymbol("(")
        var arguments: [JinjaExpression] = []
        var keywords: [(String, JinjaExpression)] = []
        while !skipSymbol(")") {
            if case .name(let name)? = current, position + 1 < tokens.count,
                tokens[position + 1].kind == .symbol("=")
            {
                position += 2
                keywords.append((name, try parseExpression()))
            } else {
                guard keywords.isEmpty else {
                    throw error("a positional argument follows a keyword argument")
                }
                arguments.append(try parseExpression())
            }
            if !skipSymbol(",") {
                try expectSymbol(")")
                break
            }
        }
        return (arguments, keywords)
    }

    private mutating func parsePostfix(_ base: JinjaExpression) throws(ChatTemplateError)
        -> JinjaExpression
    {
        var value = base
        while true {
            let start = line
            if skipSymbol(".") {
                switch current {
                case .name(let name)?:
                    position += 1
                    value = JinjaExpression(kind: .attribute(value, name), line: start)
                case .int(let index)?:
                    position += 1
                    value = JinjaExpression(
                        kind: .item(
                            value, JinjaExpression(kind: .literal(.int(index)), line: start)),
                        line: start)
                default:
                    throw error("expected an attribute name after \".\"")
                }
            } else if skipSymbol("[") {
                var parts: [JinjaExpression?] = [nil]
                var isSlice = false
                while current != .symbol("]") {
                    if skipSymbol(":") {
                        isSlice = true
                        parts.append(nil)
                        guard parts.count <= 3 else {
                            throw error("a slice has at most two colons")
                        }
                    } else {
                        guard parts[parts.count - 1] == nil else {
                            throw error("expected \"]\", found \(describeCurrent())")
                        }
                        parts[parts.count - 1] = try parseExpression()
                    }
                }
                try expectSymbol("]")
                if isSlice {
                    while parts.count < 3 { parts.append(nil) }
                    value = JinjaExpression(
                        kind: .slice(value, parts[0], parts[1], parts[2]), line: start)
                } else {
                    guard let index = parts[0] else { throw error("an empty subscript") }
                    value = JinjaExpression(kind: .item(value, index), line: start)
                }
            } else if current == .symbol("(") {
                let (arguments, keywords) = try parseArguments()
                value = JinjaExpression(kind: .call(value, arguments, keywords), line: start)
            } else {
                return value
            }
        }
    }

    private mutating func parsePrimary() throws(ChatTemplateError) -> JinjaExpression {
        let start = line
        guard let kind = current else {
            throw error("expected an expression, found the end of the tag")
        }
        position += 1
        switch kind {
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more)? = current {
                text += more
                position += 1
            }
            return JinjaExpression(kind: .literal(.string(text)), line: start)
        case .int(let value): return JinjaExpression(kind: .literal(.int(value)), line: start)
        case .double(let value): return JinjaExpression(kind: .literal(.double(value)), line: start)
        case .name(let name):
            switch name {
            case "true", "True": return JinjaExpression(kind: .literal(.bool(true)), line: start)
            case "false", "False": return JinjaExpression(kind: .literal(.bool(false)), line: start)
            case "none", "None": return JinjaExpression(kind: .literal(.none), line: start)
            default: return JinjaExpression(kind: .name(name), line: start)
            }
        case .symbol("("):
            if skipSymbol(")") { return JinjaExpression(kind: .list([]), line: start) }
            let first = try parseExpression()
            if skipSymbol(")") { return first }
            var items = [first]
            while skipSymbol(",") {
                if current == .symbol(")") { break }
                items.append(try parseExpression())
            }
            try expectSymbol(")")
            return JinjaExpression(kind: .list(items), line: start)
        case .symbol("["):
            var items: [JinjaExpression] = []
            while !skipSymbol("]") {
                items.append(try parseExpression())
                if !skipSymbol(",") {
                    try expectSymbol("]")
                    break
                }
            }
            return JinjaExpression(kind: .list(items), line: start)
        case .symbol("{"):
            var pairs: [(JinjaExpression, JinjaExpression)] = []
            while !skipSymbol("}") {
                let key = try parseExpression()
                try expectSymbol(":")
                pairs.append((key, try parseExpression()))
                if !skipSymbol(",") {
                    try expectSymbol("}")
                    break
                }
            }
            return JinjaExpression(kind: .dict(pairs), line: start)
        default:
            position -= 1
            throw error("unexpected \(describeCurrent())")
        }
    }
}
