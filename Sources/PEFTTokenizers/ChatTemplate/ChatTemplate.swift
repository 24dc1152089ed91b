import Foundation

/// A model's chat template: the Jinja text in `chat_template.jinja` or `tokenizer_config.json`'s
/// `chat_template`, rendered as `transformers`' `apply_chat_template(..., tokenize=False)` renders
/// it.
///
/// The interpreter reads the subset of Jinja that checkpoints' templates use:
/// - statements `if`/`elif`/`else`, `for` (`loop.index0`, `index`, `first`, `last`, `length`,
///   `revindex`, `previtem`, `nextitem`; an `if` filter; `else`), `set` (also `ns.attr = ...` on a
///   `namespace()`, and block `set`), `break`/`continue`, and `{% generation %}` (rendered as is);
/// - Jinja's operators and precedence (filters bind tighter than `+`), slices, calls with
///   keyword arguments, `x if c else y`;
/// - filters `trim`, `tojson` (transformers': `ensure_ascii=False`, `indent=`), `length`/`count`,
///   `upper`, `lower`, `capitalize`, `title`, `default`/`d`, `items`, `first`, `last`, `list`,
///   `join`, `string`, `map`, `select`/`reject`/`selectattr`/`rejectattr`, `unique`, `reverse`,
///   `replace`, `indent`, `int`, `float`, `abs`, `min`, `max`, `safe`, `e`;
/// - tests `defined`, `undefined`, `none`, `string`, `number`, `integer`, `float`, `boolean`,
///   `mapping`, `iterable`, `sequence`, `callable`, `true`, `false`, `odd`, `even`,
///   `divisibleby`, `eq`/`equalto`, `ne`, `lt`, `le`, `gt`, `ge`, `in`, `sameas`, `lower`, `upper`;
/// - globals `raise_exception`, `strftime_now`, `namespace`, `dict`, `range`, and Python's
///   string (`strip`, `split`, `startswith`, ...) and dict (`items`, `get`, ...) methods.
///
/// Whitespace follows transformers' environment: `trim_blocks` and `lstrip_blocks` on,
/// `keep_trailing_newline` off, plus `{%-`/`-%}`/`{%+`. Anything else (`macro`, `call`,
/// `filter` blocks, `include`, recursive loops) is a ``ChatTemplateError/syntax(line:message:)``
/// naming the template's line.
///
/// ```swift
/// let template = try ChatTemplate(contentsOf: folder)
/// let messages = try JinjaValue(json: #"[{"role": "user", "content": "Hi"}]"#)
/// let text = try template.render(messages: messages, addGenerationPrompt: true)
/// let ids = tokenizer.encode(text, addingSpecialTokens: false)
/// ```
public struct ChatTemplate: Sendable {
    /// The template's source text.
    public let source: String
    /// The special tokens the template sees as variables (`bos_token`, `eos_token`, ...).
    public var specialTokens: [String: String]
    private let nodes: [JinjaNodeBox]

    /// Parses `source`; `specialTokens` become the template's `bos_token`-style variables.
    public init(_ source: String, specialTokens: [String: String] = [:]) throws(ChatTemplateError) {
        self.source = source
        self.specialTokens = specialTokens
        // Jinja's keep_trailing_newline is off: one newline at the very end is dropped.
        var text = source
        if text.unicodeScalars.last == "\n" {
            text.unicodeScalars.removeLast()
            if text.unicodeScalars.last == "\r" { text.unicodeScalars.removeLast() }
        }
        var parser = JinjaParser(segments: try JinjaLexer(text).segments())
        nodes = [JinjaNodeBox(nodes: try parser.parse())]
    }

    /// The template of a model folder, as transformers picks it: `chat_template.jinja` if
    /// present, else `tokenizer_config.json`'s `chat_template` (a string, or the `default` entry
    /// of a `[{name, template}]` list), with that file's special tokens.
    public init(contentsOf folder: URL) throws(ChatTemplateError) {
        let configurationURL = folder.appendingPathComponent("tokenizer_config.json")
        var configuration: [String: Any] = [:]
        if let data = try? Data(contentsOf: configurationURL) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else {
                throw .invalidConversation("\(configurationURL.path) is not a JSON object")
            }
            configuration = object
        }
        var tokens: [String: String] = [:]
        for key in [
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
            "mask_token",
        ] {
            if let text = configuration[key] as? String {
                tokens[key] = text
            } else if let object = configuration[key] as? [String: Any],
                let text = object["content"] as? String
            {
                tokens[key] = text
            }
        }
        let jinjaURL = folder.appendingPathComponent("chat_template.jinja")
        if let data = try? Data(contentsOf: jinjaURL) {
            try self.init(String(decoding: data, as: UTF8.self), specialTokens: tokens)
            return
        }
        if let text = configuration["chat_template"] as? String {
            try self.init(text, specialTokens: tokens)
            return
        }
        if let list = configuration["chat_template"] as? [[String: Any]],
            let entry = list.first(where: { $0["name"] as? String == "default" }),
            let text = entry["template"] as? String
        {
            try self.init(text, specialTokens: tokens)
            return
        }
        throw .missingTemplate(folder: folder.path)
    }

    /// Renders a conversation.
    ///
    /// - Parameters:
    ///   - messages: a list of `{"role", "content", ...}` dicts; keys whose value is `null` are
    ///     dropped first, as transformers does, so the template sees them as undefined.
    ///   - tools: the `tools` variable (JSON schemas), `none` when there are none.
    ///   - addGenerationPrompt: open an assistant turn at the end.
    ///   - variables: further variables (`date_string`, `enable_thinking`); they win over the
    ///     special tokens.
    public func render(
        messages: JinjaValue, tools: JinjaValue = .none, addGenerationPrompt: Bool = false,
        variables: [String: JinjaValue] = [:]
    ) throws(ChatTemplateError) -> String {
        guard case .array(let list) = messages else {
            throw .invalidConversation("messages must be a list")
        }
        let cleaned: [JinjaValue] = try list.map { message throws(ChatTemplateError) in
            guard case .object(let object) = message else {
                throw .invalidConversation("each message must be an object")
            }
            return .object(
                JinjaObject(
                    object.items.filter { if case .none = $0.value { false } else { true } }.map {
                        ($0.key, $0.value)
                    }))
        }
        var globals = JinjaGlobals.functions
        for (key, value) in specialTokens { globals[key] = .string(value) }
        globals["messages"] = .array(cleaned)
        globals["tools"] = tools
        globals["documents"] = JinjaValue.none
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        for (key, value) in variables { globals[key] = value }
        return try JinjaEvaluator(globals: globals).render(nodes[0].nodes)
    }
}

/// The parsed nodes, boxed so ``ChatTemplate`` stays `Sendable` (the tree is never mutated).
private struct JinjaNodeBox: @unchecked Sendable {
    let nodes: [JinjaNode]
}
