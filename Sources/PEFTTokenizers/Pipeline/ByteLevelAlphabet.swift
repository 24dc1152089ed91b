// GPT-2's reversible map between bytes and printable characters, so that every byte sequence
// becomes a string of visible characters the BPE vocabulary can hold.

/// The bytes-to-unicode table of GPT-2's `encoder.py` and HF's `ByteLevel` components.
enum ByteLevelAlphabet {
    /// The character that stands for each byte: printable Latin-1 bytes stand for themselves, the
    /// other 68 bytes for U+0100 onwards, in byte order.
    static let characters: [Unicode.Scalar] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        let printableSet = Set(printable)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 256
        for byte in 0..<256 {
            if printableSet.contains(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(shifted)!
                shifted += 1
            }
        }
        return table
    }()

    /// The byte each table character stands for.
    static let bytes: [Unicode.Scalar: UInt8] = {
        var inverse: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in characters.enumerated() {
            inverse[character] = UInt8(byte)
        }
        return inverse
    }()

    /// Returns `bytes` written with the table's characters.
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var view = String.UnicodeScalarView()
        for byte in bytes {
            view.append(characters[Int(byte)])
        }
        return String(view)
    }

    /// Returns the bytes `token` stands for, or nil when a character is not in the table.
    static func decode(_ token: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = bytes[scalar] else { return nil }
            result.append(byte)
        }
        return result
    }
}
