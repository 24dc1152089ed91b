/// The share of examples whose generated completion equals the expected one, character for
/// character.
///
/// ```swift
/// let result = ExactMatchEvaluation(examples) { prompt in
///     model.complete(prompt, tokenizer: tokenizer)
/// }
/// print(result.accuracy)   // 0.0 ... 1.0
/// ```
public struct ExactMatchEvaluation: Sendable {
    /// Each example with the text generated for its prompt.
    public var outcomes: [(example: TextExample, generated: String)]

    /// Generates a completion for every example's prompt with `generate` and compares it exactly.
    public init(_ examples: [TextExample], generate: (String) throws -> String) rethrows {
        outcomes = try examples.map { ($0, try generate($0.prompt)) }
    }

    /// The number of examples generated exactly.
    public var correctCount: Int { outcomes.count { $0.generated == $0.example.completion } }

    /// `correctCount / count`, 0 for no examples.
    public var accuracy: Double {
        outcomes.isEmpty ? 0 : Double(correctCount) / Double(outcomes.count)
    }

    /// `"87.5% (175/200)"`.
    public var formatted: String {
        let percent = (accuracy * 1000).rounded() / 10
        return "\(percent)% (\(correctCount)/\(outcomes.count))"
    }
}

extension ExactMatchEvaluation {
    /// "Held-out generations:" and the first `count` prompts with what was generated, each marked
    /// `ok` or with the expected completion.
    public func samples(_ count: Int = 5) -> String {
        func quoted(_ text: String) -> String { "\"\(text)\"" }
        let lines = outcomes.prefix(count).map { example, generated in
            let mark =
                generated == example.completion ? "ok" : "expected \(quoted(example.completion))"
            return "  \(quoted(example.prompt)) → \(quoted(generated))  \(mark)"
        }
        return (["Held-out generations:"] + lines).joined(separator: "\n")
    }
}
