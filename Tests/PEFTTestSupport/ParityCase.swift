import Foundation

/// One case of a `parity.json` fixture: inputs and the reference logits from `transformers` / `peft`.
public struct ParityCase {
    /// The case's name (`no_padding`, `right_padding`, ...).
    public let name: String
    /// `[B][T]` encoder or decoder input ids.
    public let inputIDs: [[Int]]
    /// `[B][T]` attention mask.
    public let attentionMask: [[Int]]
    /// `[B][T_dec]` decoder input ids (encoder-decoder models only).
    public let decoderInputIDs: [[Int]]?
    /// `[B][T_out]`: 1 where the reference logits are meaningful.
    public let validPositions: [[Int]]
    /// `[B, T_out, V]`.
    public let logitsShape: [Int]
    /// The reference logits, flattened.
    public let logits: [Float]
    /// `[B][T]` labels (model fixtures only).
    public let labels: [[Int]]?
    /// The reference loss for ``labels`` (model fixtures only).
    public let loss: Float?
}

/// A parsed `parity.json`: its cases and the raw object for method-specific fields.
public struct ParityFixture {
    /// The JSON object as parsed.
    public let object: [String: Any]
    /// The cases.
    public let cases: [ParityCase]

    /// Reads `parity.json` from the fixture folder `name` (`gpt2-tiny`, `lora-gpt2-dora`, ...).
    public init(_ name: String) throws {
        let data = try Data(contentsOf: Fixtures.url("\(name)/parity.json"))
        object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        cases = (object["cases"] as! [[String: Any]]).map { entry in
            ParityCase(
                name: entry["name"] as! String,
                inputIDs: entry["input_ids"] as! [[Int]],
                attentionMask: entry["attention_mask"] as! [[Int]],
                decoderInputIDs: entry["decoder_input_ids"] as? [[Int]],
                validPositions: entry["valid_positions"] as! [[Int]],
                logitsShape: entry["logits_shape"] as! [Int],
                logits: (entry["logits"] as! [NSNumber]).map { $0.floatValue },
                labels: entry["labels"] as? [[Int]],
                loss: (entry["loss"] as? NSNumber)?.floatValue)
        }
    }

    /// The fixture folder `name`.
    public static func folder(_ name: String) -> URL { Fixtures.url(name) }
}

/// The largest |actual − expected| over the positions marked valid, for `[B, T, V]` logits.
public func maxDifferenceOverValidPositions(_ actual: [Float], _ parity: ParityCase) -> Float {
    let vocabulary = parity.logitsShape[2]
    let length = parity.logitsShape[1]
    var worst: Float = 0
    for (row, valid) in parity.validPositions.enumerated() {
        for position in 0..<length where valid[position] == 1 {
            let start = (row * length + position) * vocabulary
            for index in start..<start + vocabulary {
                let difference = abs(actual[index] - parity.logits[index])
                worst = difference.isNaN ? .infinity : max(worst, difference)
            }
        }
    }
    return worst
}
