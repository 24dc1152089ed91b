// The syntax tree of a chat template.

/// An expression, with the template line it starts on.
struct JinjaExpression {
    indirect enum Kind {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpression])
        case dict([(JinjaExpression, JinjaExpression)])
        case attribute(JinjaExpression, String)
        case item(JinjaExpression, JinjaExpression)
        case slice(JinjaExpression, JinjaExpression?, JinjaExpression?, JinjaExpression?)
        case call(JinjaExpression, [JinjaExpression], [(String, JinjaExpression)])
        case filter(JinjaExpression, String, [JinjaExpression], [(String, JinjaExpression)])
        case test(JinjaExpression, String, [JinjaExpression], negated: Bool)
        case not(JinjaExpression)
        case negate(JinjaExpression)
        case binary(String, JinjaExpression, JinjaExpression)
        case and(JinjaExpression, JinjaExpression)
        case or(JinjaExpression, JinjaExpression)
        case conditional(JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?)
    }

    let kind: Kind
    let line: Int
}

/// A statement or a run of text.
indirect enum JinjaNode {
    case text(String)
    case output(JinjaExpression)
    case conditional([(JinjaExpression, [JinjaNode])], otherwise: [JinjaNode])
    case loop(
        targets: [String], iterable: JinjaExpression, filter: JinjaExpression?,
        body: [JinjaNode], otherwise: [JinjaNode], line: Int)
    case assign(targets: [String], attribute: String?, value: JinjaExpression, line: Int)
    case assignBlock(target: String, body: [JinjaNode])
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// transformers' `{% generation %}`: the assistant text, rendered as it is.
    case generation([JinjaNode])
}
