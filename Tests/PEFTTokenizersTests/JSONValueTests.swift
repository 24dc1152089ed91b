import Testing

@testable import PEFTTokenizers

@Suite("JSON reading")
struct JSONValueTests {
    @Test("Numbers convert as serde_json converts them, not always correctly rounded")
    func serdeNumbers() {
        // 38518409144031125 needs more than 53 bits, so serde_json rounds twice.
        let text = "-3.8518409144031125"
        #expect(serdeDouble(text) == -(Double(38_518_409_144_031_125 as UInt64) / 1e16))
        #expect(serdeDouble(text) != Double(text))
        for exact in ["0", "-0.0", "1", "0.5", "-2.25", "1e3", "1E-2", "123456789"] {
            #expect(serdeDouble(exact) == Double(exact), "\(exact)")
        }
        #expect(serdeDouble("1e400") == nil)
        #expect(serdeDouble("1e-400") == 0)
    }

    @Test("Object keys stay distinct when they are canonically equivalent, in file order")
    func canonicallyEquivalentKeys() throws {
        let text = #"{"\u00e9": 1, "e\u0301": 2, "a\"b": [true, null, "\ud83d\ude00"]}"#
        let root = try JSONNode(parsing: Array(text.utf8), file: "vocab.json")
        let members = try root.members()
        #expect(
            members.map { Array($0.key.unicodeScalars) } == [
                ["é"], ["e", "\u{301}"], ["a", "\"", "b"],
            ])
        #expect(try root["\u{e9}"].int() == 1 && root["e\u{301}"].int() == 2)
        #expect(try members[2].value.array()[2].string() == "😀")
    }

    @Test("A key written twice (the same scalars) is malformed, naming the file and the key")
    func duplicateKeys() {
        #expect(
            throws: TokenizerError.malformedFile(
                file: "vocab.json", reason: #"the key "e\#u{301}" appears twice"#)
        ) {
            try JSONNode(
                parsing: Array(#"{"e\u0301": 1, "b": 2, "e\u0301": 3}"#.utf8), file: "vocab.json")
        }
    }
}
