import PEFTTraining
import Testing

@Test("Each skill transforms a word as its name says")
func skillsTransform() {
    #expect(StringSkill.copy.apply(to: "abc") == "abc")
    #expect(StringSkill.flip.apply(to: "abc") == "cba")
    #expect(StringSkill.caps.apply(to: "abc") == "ABC")
    #expect(StringSkill.yell.apply(to: "abc") == "CBA")
    #expect(StringSkill.allCases.allSatisfy { $0.keyword.count == 4 })
}

@Test("The same seed gives the same examples, another seed other ones")
func generatorIsDeterministic() {
    let generator = StringTaskGenerator()
    let first = generator.examples(skills: [.copy, .flip, .caps], count: 50, seed: 7)
    let again = generator.examples(skills: [.copy, .flip, .caps], count: 50, seed: 7)
    let other = generator.examples(skills: [.copy, .flip, .caps], count: 50, seed: 8)
    #expect(first == again)
    #expect(first != other)
    #expect(
        generator.split(skills: [.yell], trainingCount: 20, heldOutCount: 5, seed: 3)
            == generator.split(skills: [.yell], trainingCount: 20, heldOutCount: 5, seed: 3))
}

@Test("Examples are written in the format asked for, with words of the lengths asked for")
func generatorFormats() {
    let completion = StringTaskGenerator(format: .completion)
    #expect(
        completion.example(.flip, word: "abc")
            == TextExample(prompt: "flip: abc =>", completion: " cba"))
    let inputTarget = StringTaskGenerator(format: .inputTarget)
    #expect(
        inputTarget.example(.caps, word: "abc")
            == TextExample(prompt: "caps: abc", completion: "ABC"))
    let short = StringTaskGenerator(alphabet: ["x", "y"], lengths: 2...3)
    for example in short.examples(skills: [.copy], count: 40, seed: 1) {
        let word = example.prompt.dropFirst("copy: ".count).dropLast(" =>".count)
        #expect((2...3).contains(word.count) && word.allSatisfy { $0 == "x" || $0 == "y" })
        #expect(example.completion == " \(word)")
    }
}

@Test("No held-out word appears in the training examples")
func heldOutWordsAreUnseen() {
    let generator = StringTaskGenerator(lengths: 3...3, format: .inputTarget)
    let split = generator.split(
        skills: [.copy, .flip], trainingCount: 500, heldOutCount: 100, seed: 11)
    #expect(split.training.count == 500 && split.heldOut.count == 100)
    func word(_ example: TextExample) -> Substring { example.prompt.split(separator: " ")[1] }
    let heldOutWords = Set(split.heldOut.map(word))
    #expect(heldOutWords.count == 100)
    #expect(split.training.allSatisfy { !heldOutWords.contains(word($0)) })
}
