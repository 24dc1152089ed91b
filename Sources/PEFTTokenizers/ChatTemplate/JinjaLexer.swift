// Splits a template into text, `{{ }}` and `{% %}` pieces, applying Jinja's whitespace control
// (`{%-`, `-%}`, `{%+`) and transformers' `trim_blocks` and `lstrip_blocks`.

/// One token inside a tag.
struct JinjaToken: Equatable {
    enum Kind: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case double(Double)
        case symbol(String)
    }

    let kind: Kind
    let line: Int
}

/// A piece of the template, after whitespace control.
enum JinjaSegment {
    case text(String, line: Int)
    case output([JinjaToken], line: Int)
    case statement([JinjaToken], line: Int)
}

/// The lexer; `trimBlocks` and `lstripBlocks` are true in transformers' environment.
struct JinjaLexer {
    let source: [Unicode.Scalar]
    var trimBlocks = true
    var lstripBlocks = true

    init(_ template: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        source = Array(template.unicodeScalars)
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    private enum TagKind { case output, statement, comment }

    private struct RawTag {
        var kind: TagKind
        var tokens: [JinjaToken]
        var line: Int
        var stripBefore: Bool  // `{%-`
        var keepBefore: Bool  // `{%+`
        var stripAfter: Bool  // `-%}`
    }

    private enum Raw {
        case text([Unicode.Scalar], line: Int)
        case tag(RawTag)
    }

    func segments() throws(ChatTemplateError) -> [JinjaSegment] {
        var raws: [Raw] = []
        var position = 0
        var line = 1
        while position < source.count {
            var next = position
            while next + 1 < source.count,
                !(source[next] == "{" && ["{", "%", "#"].contains(source[next + 1]))
            {
                next += 1
            }
            if next + 1 >= source.count { next = source.count }
            if next > position {
                raws.append(.text(Array(source[position..<next]), line: line))
                line += source[position..<next].count { $0 == "\n" }
            }
            guard next < source.count else { break }
            let (tag, end, endLine) = try readTag(at: next, line: line)
            raws.append(.tag(tag))
            position = end
            line = endLine
        }
        return applyWhitespaceControl(raws)
    }

    private func applyWhitespaceControl(_ raws: [Raw]) -> [JinjaSegment] {
        var result: [JinjaSegment] = []
        for (index, raw) in raws.enumerated() {
            switch raw {
            case .tag(let tag):
                switch tag.kind {
                case .output: result.append(.output(tag.tokens, line: tag.line))
                case .statement: result.append(.statement(tag.tokens, line: tag.line))
                case .comment: break
                }
            case .text(var text, let line):
                var lineStarting = index == 0
                if index > 0, case .tag(let previous) = raws[index - 1] {
                    if previous.stripAfter {
                        let count = text.prefix { Self.isWhitespace($0) }.count
                        lineStarting = count > 0 && text[count - 1] == "\n"
                        text.removeFirst(count)
                    } else if trimBlocks, previous.kind != .output {
                        if text.first == "\n" {
                            text.removeFirst()
                            lineStarting = true
                        } else if text.count >= 2, text[0] == "\r", text[1] == "\n" {
                            text.removeFirst(2)
                            lineStarting = true
                        }
                    }
                }
                if index + 1 < raws.count, case .tag(let following) = raws[index + 1] {
                    if following.stripBefore {
                        while let last = text.last, Self.isWhitespace(last) { text.removeLast() }
                    } else if lstripBlocks, !following.keepBefore, following.kind != .output {
                        let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                        if lineStart > 0 || lineStarting,
                            text[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" })
                        {
                            text.removeSubrange(lineStart...)
                        }
                    }
                }
                if !text.isEmpty {
                    var string = ""
                    string.unicodeScalars.append(contentsOf: text)
                    result.append(.text(string, line: line))
                }
            }
        }
        return result
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Reads the tag starting at `start` (`{{`, `{%` or `{#`).
    private func readTag(at start: Int, line startLine: Int) throws(ChatTemplateError) -> (
        RawTag, Int, Int
    ) {
        let opener = source[start + 1]
        var position = start + 2
        var line = startLine
        var tag = RawTag(
            kind: opener == "{" ? .output : opener == "%" ? .statement : .comment, tokens: [],
            line: startLine, stripBefore: false, keepBefore: false, stripAfter: false)
        if position < source.count, source[position] == "-" {
            tag.stripBefore = true
            position += 1
        } else if position < source.count, source[position] == "+" {
            tag.keepBefore = true
            position += 1
        }
        if tag.kind == .comment {
            while position + 1 < source.count,
                !(source[position] == "#" && source[position + 1] == "}")
            {
                if source[position] == "\n" { line += 1 }
                position += 1
            }
            guard position + 1 < source.count else {
                throw .syntax(line: startLine, message: "the comment is never closed with #}")
            }
            tag.stripAfter = position > start + 2 && source[position - 1] == "-"
            return (tag, position + 2, line)
        }
        let closer: Unicode.Scalar = tag.kind == .output ? "}" : "%"
        var depth = 0
        while true {
            while position < source.count, Self.isWhitespace(source[position]) {
                if source[position] == "\n" { line += 1 }
                position += 1
            }
            guard position < source.count else {
                let name = tag.kind == .output ? "}}" : "%}"
                throw .syntax(line: startLine, message: "the tag is never closed with \(name)")
            }
            let scalar = source[position]
            func at(_ offset: Int) -> Unicode.Scalar? {
                position + offset < source.count ? source[position + offset] : nil
            }
            if depth == 0 {
                if scalar == closer, at(1) == "}" {
                    return (tag, position + 2, line)
                }
                if scalar == "-", at(1) == closer, at(2) == "}" {
                    tag.stripAfter = true
                    return (tag, position + 3, line)
                }
            }
            if scalar == "\"" || scalar == "'" {
                var text = ""
                position += 1
                while position < source.count, source[position] != scalar {
                    var character = source[position]
                    if character == "\n" { line += 1 }
                    if character == "\\", position + 1 < source.count {
                        position += 1
                        switch source[position] {
                        case "n": character = "\n"
                        case "t": character = "\t"
                        case "r": character = "\r"
                        case "\\", "'", "\"": character = source[position]
                        default:
                            text.unicodeScalars.append("\\")
                            character = source[position]
                        }
                    }
                    text.unicodeScalars.append(character)
                    position += 1
                }
                guard position < source.count else {
                    throw .syntax(line: line, message: "a string literal is never closed")
                }
                position += 1
                tag.tokens.append(JinjaToken(kind: .string(text), line: line))
                continue
            }
            if scalar.properties.isAlphabetic || scalar == "_" {
                var name = ""
                while position < source.count,
                    source[position].properties.isAlphabetic || source[position] == "_"
                        || ("0"..."9").contains(source[position])
                {
                    name.unicodeScalars.append(source[position])
                    position += 1
                }
                tag.tokens.append(JinjaToken(kind: .name(name), line: line))
                continue
            }
            if ("0"..."9").contains(scalar) {
                var literal = ""
                var isFloat = false
                while position < source.count {
                    let digit = source[position]
                    if ("0"..."9").contains(digit) || digit == "_" {
                        if digit != "_" { literal.unicodeScalars.append(digit) }
                    } else if digit == ".", !isFloat, position + 1 < source.count,
                        ("0"..."9").contains(source[position + 1])
                    {
                        isFloat = true
                        literal.unicodeScalars.append(digit)
                    } else {
                        break
                    }
                    position += 1
                }
                let kind: JinjaToken.Kind =
                    isFloat ? .double(Double(literal) ?? 0) : .int(Int(literal) ?? 0)
                tag.tokens.append(JinjaToken(kind: kind, line: line))
                continue
            }
            let two = at(1).map { String(scalar) + String($0) } ?? ""
            if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                tag.tokens.append(JinjaToken(kind: .symbol(two), line: line))
                position += 2
                continue
            }
            guard "+-*/%~<>()[]{},.:|=".unicodeScalars.contains(scalar) else {
                throw .syntax(line: line, message: "unexpected character \"\(scalar)\"")
            }
            if "([{".unicodeScalars.contains(scalar) { depth += 1 }
            if ")]}".unicodeScalars.contains(scalar) { depth = max(0, depth - 1) }
            tag.tokens.append(JinjaToken(kind: .symbol(String(scalar)), line: line))
            position += 1
        }
    }
}
