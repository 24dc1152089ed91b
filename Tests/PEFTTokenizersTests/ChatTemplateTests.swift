import Foundation
import Testing

@testable import PEFTTokenizers

/// One template fixture of Scripts/fixtures/make_chat_template_fixtures.py, read with the
/// library's own JSON reader so dict key order (which `tojson` prints) is kept.
struct ChatTemplateFixture {
    let root: JinjaObject

    static let names = ["llama3", "llama3.1", "qwen2.5", "mistral", "smollm2", "zephyr"]

    init(_ name: String) throws {
        let url = Fixtures.url("chat-templates").appendingPathComponent("\(name).json")
        guard
            case .object(let object) = try JinjaValue(
                json: String(contentsOf: url, encoding: .utf8))
        else { throw ChatTemplateError.invalidConversation("fixture \(name) is not an object") }
        root = object
    }

    func string(_ key: String) -> String {
        if case .string(let text)? = root[key] { return text }
        return ""
    }

    var specialTokens: [String: String] {
        guard case .object(let tokens)? = root["special_tokens"] else { return [:] }
        var result: [String: String] = [:]
        for item in tokens.items {
            if case .string(let text) = item.value { result[item.key] = text }
        }
        return result
    }

    var cases: [JinjaObject] {
        guard case .array(let items)? = root["cases"] else { return [] }
        return items.compactMap { if case .object(let object) = $0 { object } else { nil } }
    }
}

@Suite("Chat templates render as transformers' apply_chat_template")
struct ChatTemplateTests {
    @Test("Every fixture conversation: text and ids exact", arguments: ChatTemplateFixture.names)
    func parity(name: String) throws {
        let fixture = try ChatTemplateFixture(name)
        let template = try ChatTemplate(
            fixture.string("template"), specialTokens: fixture.specialTokens)
        let tokenizer = try loadTokenizer(contentsOf: Fixtures.url(fixture.string("tokenizer")))
        #expect(fixture.cases.count >= 8)
        for testCase in fixture.cases {
            guard case .string(let caseName)? = testCase["name"] else { continue }
            var variables: [String: JinjaValue] = [:]
            if case .object(let given)? = testCase["variables"] {
                for item in given.items { variables[item.key] = item.value }
            }
            let render = { () throws(ChatTemplateError) -> String in
                try template.render(
                    messages: testCase["messages"] ?? .array([]), tools: testCase["tools"] ?? .none,
                    addGenerationPrompt: testCase["add_generation_prompt"]?.isTruthy ?? false,
                    variables: variables)
            }
            if case .string(let message)? = testCase["error"] {
                #expect(throws: ChatTemplateError.self, "\(name)/\(caseName)") { try render() }
                do {
                    _ = try render()
                } catch .raised(_, let raised) {
                    #expect(raised == message, "\(name)/\(caseName)")
                } catch {
                    Issue.record("\(name)/\(caseName): \(error)")
                }
                continue
            }
            guard case .string(let expectedText)? = testCase["text"],
                case .array(let expectedIDs)? = testCase["ids"]
            else {
                Issue.record("\(name)/\(caseName): no text or ids")
                continue
            }
            let text: String
            do {
                text = try render()
            } catch {
                Issue.record("\(name)/\(caseName): \(error)")
                continue
            }
            expectSameScalars(text, expectedText, "\(name)/\(caseName)")
            let ids = tokenizer.encode(text, addingSpecialTokens: false)
            #expect(ids == expectedIDs.compactMap(\.integer), "\(name)/\(caseName)")
        }
    }

    @Test("The template comes from chat_template.jinja before tokenizer_config.json")
    func loadsFromFolder() throws {
        let inConfiguration = try temporaryFolder(with: [
            "tokenizer_config.json": #"{"eos_token": "</s>", "chat_template": "A{{ eos_token }}"}"#
        ])
        let messages = try JinjaValue(json: "[]")
        #expect(try ChatTemplate(contentsOf: inConfiguration).render(messages: messages) == "A</s>")
        try "B{{ eos_token }}\n".write(
            to: inConfiguration.appendingPathComponent("chat_template.jinja"), atomically: true,
            encoding: .utf8)
        #expect(try ChatTemplate(contentsOf: inConfiguration).render(messages: messages) == "B</s>")
        let named = try temporaryFolder(with: [
            "tokenizer_config.json":
                #"{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"#
        ])
        #expect(try ChatTemplate(contentsOf: named).render(messages: messages) == "D")
        let none = try temporaryFolder(with: ["tokenizer_config.json": "{}"])
        #expect(throws: ChatTemplateError.missingTemplate(folder: none.path)) {
            try ChatTemplate(contentsOf: none)
        }
    }

    @Test("Whitespace control: trim_blocks, lstrip_blocks, {%- -%} and {%+")
    func whitespace() throws {
        let messages = try JinjaValue(json: "[]")
        func render(_ source: String) throws -> String {
            try ChatTemplate(source).render(messages: messages)
        }
        #expect(try render("{{ 'x' }}\n{% if true %}\n  y\n{% endif %}\nz\n") == "x\n  y\nz")
        #expect(try render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc")
        #expect(try render("a\n    {%+ if true %}b{% endif %}") == "a\n    b")
        #expect(try render("a\n    {% if true %}b{% endif %}") == "a\nb")
        #expect(try render("{# comment #}\nx{{ 1 }}\n") == "x1")
        #expect(try render("x\n\n") == "x\n")
    }

    @Test("Expressions follow Python: printing, slices, methods, filters, tests")
    func expressions() throws {
        let messages = try JinjaValue(json: #"[{"role": "user", "content": " Hi ", "n": 1.0}]"#)
        func render(_ source: String) throws -> String {
            try ChatTemplate(source).render(messages: messages)
        }
        #expect(
            try render("{{ none }} {{ true }} {{ [1, 'a', none] }} {{ {'k': 'it\\'s'} }}")
                == "None True [1, 'a', None] {'k': \"it's\"}")
        #expect(
            try render("{{ messages[0].n }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 1 / 2 }}")
                == "1.0 3 -4 1 0.5")
        #expect(
            try render("{{ 'abcdef'[1:] }}{{ 'abc'[::-1] }}{{ [1,2,3][-1] }}{{ [1,2,3][:-1] }}")
                == "bcdefcba3[1, 2]")
        #expect(
            try render(
                "{{ messages[0].content.strip() }}|{{ ' x,y '.split(',') }}|{{ 'ab'.startswith('a') }}"
            )
                == "Hi|[' x', 'y ']|True")
        #expect(
            try render("{{ messages[0].content | trim | upper }}{{ 'a' + 'b' | upper }}") == "HIaB")
        #expect(
            try render("{{ messages | map(attribute='role') | join(', ') }}{{ messages | length }}")
                == "user1")
        #expect(
            try render("{{ {'a': [1, 'é']} | tojson }}{{ {'a': 1} | tojson(indent=2) }}")
                == "{\"a\": [1, \"é\"]}{\n  \"a\": 1\n}")
        #expect(
            try render(
                "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ 3 is odd }}{{ x | default('d') }}"
            )
                == "FalseTrueTrueTrued")
        #expect(
            try render(
                "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }}{{ ',' if not loop.last }}{% endfor %}"
            )
                == "a=1,b=2")
        #expect(
            try render(
                "{% set ns = namespace(n=0) %}{% for i in range(4) if i is even %}{% set ns.n = ns.n + i %}{{ loop.index }}/{{ loop.length }} {% endfor %}{{ ns.n }}"
            )
                == "1/2 2/2 2")
        #expect(
            try render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}") == "1"
        )
        #expect(
            try render(
                "{% for i in [1, 2, 3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}{% for i in [] %}a{% else %}empty{% endfor %}"
            )
                == "1empty")
        #expect(try render("{% set block %}in{{ 1 }}{% endset %}{{ block }}") == "in1")
        #expect(try render("{% generation %}g{% endgeneration %}") == "g")
        // Python counts and indexes code points.
        #expect(try render("{{ 'e\u{301}x' | length }}{{ 'e\u{301}x'[1:] | length }}") == "32")
        #expect(try render("{{ 'x' if false }}{{ 'y' if false else 'z' }}") == "z")
    }

    @Test("Unsupported or broken syntax is an error naming the template's line")
    func syntaxErrors() {
        let cases: [(String, Int)] = [
            ("a\n{% macro f() %}{% endmacro %}", 2),
            ("a\nb\n{% if x %}", 3),
            ("{{ 'a' }}\n{{ x + }}", 2),
            ("{% for x in %}", 1),
            ("\n\n{{ 'unclosed }}", 3),
            ("{% endif %}", 1),
            ("x\n{{ a ; b }}", 2),
            ("{% if a %}\n{% else %}\n{% elif b %}{% endif %}", 3),
        ]
        for (source, line) in cases {
            do {
                _ = try ChatTemplate(source)
                Issue.record("\(source.debugDescription) parsed")
            } catch .syntax(let reported, let message) {
                #expect(reported == line, "\(source.debugDescription): \(message)")
            } catch {
                Issue.record("\(source.debugDescription): \(error)")
            }
        }
    }

    @Test("Rendering errors name the line: raise_exception, unknown filters, undefined arithmetic")
    func evaluationErrors() throws {
        let messages = try JinjaValue(json: "[]")
        #expect(throws: ChatTemplateError.raised(line: 2, message: "no")) {
            try ChatTemplate("a\n{{ raise_exception('no') }}").render(messages: messages)
        }
        #expect(throws: ChatTemplateError.self) {
            try ChatTemplate("{{ x | frobnicate }}").render(messages: messages)
        }
        do {
            _ = try ChatTemplate("\n\n{{ missing + 1 }}").render(messages: messages)
            Issue.record("undefined + 1 rendered")
        } catch .evaluation(let line, _) {
            #expect(line == 3)
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: ChatTemplateError.self) {
            try ChatTemplate("{{ missing.attribute }}").render(messages: messages)
        }
    }
}
