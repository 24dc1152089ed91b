/// A character-level string transformation, asked for in a prompt by a four-letter keyword.
///
/// The examples pre-train small models on ``copy``, ``flip`` and ``caps``, then adapt them to
/// ``yell``, which they have never seen: it composes two skills they know. Every keyword has four
/// letters, so the word sits at the same place in every prompt and a new skill differs from the
/// known ones only in what it does.
///
/// ```swift
/// StringSkill.flip.apply(to: "abc")   // "cba"
/// StringSkill.yell.apply(to: "abc")   // "CBA"
/// ```
public enum StringSkill: String, CaseIterable, Sendable {
    /// The text unchanged.
    case copy
    /// The characters in reverse order.
    case flip
    /// Every letter upper-cased.
    case caps
    /// Reversed and upper-cased: ``flip`` then ``caps``.
    case yell

    /// The word that names the skill in a prompt.
    public var keyword: String { rawValue }

    /// The transformed text.
    public func apply(to text: String) -> String {
        switch self {
        case .copy: text
        case .flip: String(text.reversed())
        case .caps: text.uppercased()
        case .yell: String(text.reversed()).uppercased()
        }
    }
}
