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
        guard case .success(.object(let members)) = JSONValue.parse(Array(text.utf8)) else {
            Issue.record("the object did not parse")
            return
        }
        #expect(
            members.map { Array($0.key.unicodeScalars) } == [
                ["é"], ["e", "\u{301}"], ["a", "\"", "b"],
            ])
        guard case .array(let elements) = members[2].value, case .string(let emoji) = elements[2]
        else {
            Issue.record("the array did not parse")
            return
        }
        #expect(emoji == "😀")
    }
}
