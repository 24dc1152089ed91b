/// Generates prompt-completion examples of ``StringSkill``s on random words, the same for the same
/// seed on every machine.
///
/// ```swift
/// let generator = StringTaskGenerator(format: .completion)
/// let split = generator.split(skills: [.flip], trainingCount: 2, heldOutCount: 1, seed: 7)
/// // split.heldOut[0].prompt: "flip: <word> =>", its completion " <the word reversed>"
/// ```
public struct StringTaskGenerator: Sendable {
    /// How a skill and a word become a prompt and a completion.
    public enum Format: Sendable {
        /// For decoder-only models: `"flip: abc =>"` then `" cba"`.
        case completion
        /// For encoder-decoder models: `"flip: abc"` then `"cba"`.
        case inputTarget
    }

    /// The characters words are drawn from.
    public var alphabet: [Character]
    /// The word lengths, drawn uniformly.
    public var lengths: ClosedRange<Int>
    /// How examples are written.
    public var format: Format

    /// A generator of lower-case words of 3 to 8 letters.
    public init(
        alphabet: [Character] = Array("abcdefghijklmnopqrstuvwxyz"),
        lengths: ClosedRange<Int> = 3...8, format: Format = .completion
    ) {
        precondition(!alphabet.isEmpty && lengths.lowerBound > 0, "StringTaskGenerator: no words")
        self.alphabet = alphabet
        self.lengths = lengths
        self.format = format
    }

    /// The example asking for `skill` on `word`.
    public func example(_ skill: StringSkill, word: String) -> TextExample {
        switch format {
        case .completion:
            TextExample(
                prompt: "\(skill.keyword): \(word) =>", completion: " \(skill.apply(to: word))")
        case .inputTarget:
            TextExample(prompt: "\(skill.keyword): \(word)", completion: skill.apply(to: word))
        }
    }

    /// `count` examples on random words, each with a skill drawn uniformly from `skills`.
    public func examples(skills: [StringSkill], count: Int, seed: UInt64) -> [TextExample] {
        precondition(!skills.isEmpty, "StringTaskGenerator: no skills")
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            let skill = skills[Int(generator.next() % UInt64(skills.count))]
            return example(skill, word: randomWord(using: &generator))
        }
    }

    /// Training and held-out examples on distinct words: no held-out word appears in training, under
    /// any skill, so held-out accuracy measures the skill rather than memory.
    public func split(
        skills: [StringSkill], trainingCount: Int, heldOutCount: Int, seed: UInt64
    ) -> (training: [TextExample], heldOut: [TextExample]) {
        precondition(!skills.isEmpty, "StringTaskGenerator: no skills")
        var generator = RandomGenerator(seed: seed)
        var heldOutWords: Set<String> = []
        var heldOut: [TextExample] = []
        while heldOut.count < heldOutCount {
            let word = randomWord(using: &generator)
            guard heldOutWords.insert(word).inserted else { continue }
            heldOut.append(example(skills[heldOut.count % skills.count], word: word))
        }
        var training: [TextExample] = []
        while training.count < trainingCount {
            let skill = skills[Int(generator.next() % UInt64(skills.count))]
            let word = randomWord(using: &generator)
            guard !heldOutWords.contains(word) else { continue }
            training.append(example(skill, word: word))
        }
        return (training, heldOut)
    }

    private func randomWord(using generator: inout RandomGenerator) -> String {
        let length = lengths.lowerBound + Int(generator.next() % UInt64(lengths.count))
        return String(
            (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
