// Numbers in tokenizer files are read as Hugging Face's Rust reader (serde_json) reads them, so
// that Unigram scores tie, and break ties, as they do in HF.

/// Converts a JSON number's text to a Double exactly as serde_json does without its
/// `float_roundtrip` feature, which is how HF `tokenizers` reads its files: the digits that fit
/// in a UInt64 become a Double, which is then multiplied or divided once by a power of ten. The
/// result can differ from the correctly rounded value in the last bit, and Unigram's Viterbi
/// ties depend on it.
func serdeDouble(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    var index = 0
    var positive = true
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
        positive = false
        index += 1
    }
    func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
    func overflows(_ value: UInt64, _ digit: UInt64) -> Bool {
        value >= UInt64.max / 10 && (value > UInt64.max / 10 || digit > UInt64.max % 10)
    }
    var significand: UInt64 = 0
    var exponent = 0
    var truncated = false
    while isDigit(index) {
        let digit = UInt64(bytes[index] - 0x30)
        if truncated || overflows(significand, digit) {
            truncated = true
            exponent += 1
        } else {
            significand = significand * 10 + digit
        }
        index += 1
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        while isDigit(index) {
            let digit = UInt64(bytes[index] - 0x30)
            if !truncated, overflows(significand, digit) { truncated = true }
            if !truncated {
                significand = significand * 10 + digit
                exponent -= 1
            }
            index += 1
        }
    }
    if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
        index += 1
        var positiveExponent = true
        if index < bytes.count,
            bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
        {
            positiveExponent = bytes[index] == UInt8(ascii: "+")
            index += 1
        }
        var value = 0
        while isDigit(index) {
            value = min(value * 10 + Int(bytes[index] - 0x30), 1_000_000)
            index += 1
        }
        exponent += positiveExponent ? value : -value
    }
    var result = Double(significand)
    while true {
        if abs(exponent) < powersOfTen.count {
            if exponent >= 0 {
                result *= powersOfTen[exponent]
                if result.isInfinite { return nil }
            } else {
                result /= powersOfTen[-exponent]
            }
            break
        }
        if result == 0 { break }
        if exponent >= 0 { return nil }
        result /= 1e308
        exponent += 308
    }
    return positive ? result : -result
}

/// 1e0 ... 1e308, each the correctly rounded Double, as in serde_json's table.
private let powersOfTen: [Double] = (0...308).map { Double("1e\($0)")! }
