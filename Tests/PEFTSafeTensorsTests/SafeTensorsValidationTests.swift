import Foundation
import Testing

@testable import PEFTSafeTensors

/// A malformed file and the error that opening it must throw.
struct BadFile: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: Data
    var expected: SafeTensorsError
    /// The tensor the error concerns, which its description must name.
    var tensor: String?

    var testDescription: String { label }

    /// A file whose header is `header` (UTF-8) followed by `dataLength` zero bytes.
    init(
        _ label: String, header: String, dataLength: Int = 0, expected: SafeTensorsError,
        tensor: String? = nil
    ) {
        self.init(
            label, headerBytes: Array(header.utf8), dataLength: dataLength, expected: expected,
            tensor: tensor)
    }

    /// A file whose header is `headerBytes` followed by `dataLength` zero bytes.
    init(
        _ label: String, headerBytes: [UInt8], dataLength: Int = 0, expected: SafeTensorsError,
        tensor: String? = nil
    ) {
        self.init(
            label, bytes: safetensorsBytes(headerBytes: headerBytes, dataLength: dataLength),
            expected: expected, tensor: tensor)
    }

    /// A file of exactly `bytes`.
    init(_ label: String, bytes: Data, expected: SafeTensorsError, tensor: String? = nil) {
        self.label = label
        self.bytes = bytes
        self.expected = expected
        self.tensor = tensor
    }
}

private let file = "bad.safetensors"

/// The bytes of a safetensors file: header length, `headerBytes`, then `dataLength` zero bytes.
private func safetensorsBytes(headerBytes: [UInt8], dataLength: Int) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: headerBytes)
    bytes.append(Data(count: dataLength))
    return bytes
}

/// A header entry for tensor `name`.
private func entry(_ name: String, _ dtype: String, _ shape: String, _ offsets: String) -> String {
    #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
}

private let badFiles: [BadFile] = [
    BadFile(
        "three bytes", bytes: Data([1, 2, 3]), expected: .fileTooShort(file: file, byteCount: 3)),
    BadFile(
        "a 200 MB header length",
        bytes: withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { Data($0) } + Data("{}".utf8),
        expected: .headerTooLarge(file: file, headerLength: 200_000_000, limit: 100_000_000)),
    BadFile(
        "a header length of 2^64 - 1",
        bytes: Data(repeating: 0xFF, count: 8),
        expected: .headerTooLarge(file: file, headerLength: .max, limit: 100_000_000)),
    BadFile(
        "a header length past the end of the file",
        bytes: withUnsafeBytes(of: UInt64(100).littleEndian) { Data($0) } + Data("{}".utf8),
        expected: .headerBeyondFile(file: file, headerLength: 100, fileLength: 10)),
    BadFile(
        "a header that is not UTF-8", headerBytes: [0x7B, 0xFF, 0xFE, 0x7D],
        expected: .headerNotUTF8(file: file)),
    BadFile(
        "a truncated JSON header", header: #"{"a": "#,
        expected: .invalidHeaderJSON(file: file, reason: "unexpected end of text", offset: 6)),
    BadFile(
        "a lone UTF-16 surrogate in a key", header: #"{"\ud800x":1}"#,
        expected: .invalidHeaderJSON(file: file, reason: "lone surrogate", offset: 8)),
    BadFile(
        "JSON nested 100 levels deep", header: String(repeating: "[", count: 100),
        expected: .invalidHeaderJSON(
            file: file, reason: "nesting deeper than 64 levels", offset: 64)),
    BadFile(
        "trailing text after the JSON", header: "{} x",
        expected: .invalidHeaderJSON(
            file: file, reason: "unexpected text after the top-level value", offset: 3)),
    BadFile(
        "a header that is an array", header: "[1]",
        expected: .headerNotObject(file: file, found: "an array")),
    BadFile(
        "a tensor listed twice",
        header: "{" + entry("w", "F32", "[1]", "[0,4]") + "," + entry("w", "F32", "[1]", "[4,8]")
            + "}",
        dataLength: 8, expected: .duplicateKey(file: file, key: "w"), tensor: "w"),
    BadFile(
        "two tensor names that are canonically equivalent",
        header: "{" + entry("\u{e9}", "F32", "[1]", "[0,4]") + ","
            + entry("e\u{301}", "F32", "[1]", "[4,8]") + "}",
        dataLength: 8, expected: .duplicateKey(file: file, key: "e\u{301}"), tensor: "e\u{301}"),
    BadFile(
        "metadata keys that are canonically equivalent",
        header: #"{"__metadata__":{"\#u{e9}":"a","e\#u{301}":"b"}}"#,
        expected: .duplicateKey(file: file, key: "e\u{301}")),
    BadFile(
        "a metadata value that is a number", header: #"{"__metadata__":{"epoch":3}}"#,
        expected: .invalidMetadata(file: file, key: "epoch", found: "a number")),
    BadFile(
        "metadata that is a string", header: #"{"__metadata__":"x"}"#,
        expected: .invalidMetadata(file: file, key: nil, found: "a string")),
    BadFile(
        "a tensor entry that is a number", header: #"{"w":5}"#,
        expected: .entryNotObject(file: file, tensor: "w", found: "a number"), tensor: "w"),
    BadFile(
        "a tensor without dtype", header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#,
        dataLength: 4, expected: .missingField(file: file, tensor: "w", field: "dtype"),
        tensor: "w"),
    BadFile(
        "a tensor without shape", header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#,
        dataLength: 4, expected: .missingField(file: file, tensor: "w", field: "shape"),
        tensor: "w"),
    BadFile(
        "a tensor without data_offsets", header: #"{"w":{"dtype":"F32","shape":[1]}}"#,
        expected: .missingField(file: file, tensor: "w", field: "data_offsets"), tensor: "w"),
    BadFile(
        "a dtype that is a number", header: #"{"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}"#,
        dataLength: 4,
        expected: .invalidField(file: file, tensor: "w", field: "dtype", expected: "a string"),
        tensor: "w"),
    BadFile(
        "a shape that is a string", header: "{" + entry("w", "F32", #""1""#, "[0,4]") + "}",
        dataLength: 4,
        expected: .invalidField(
            file: file, tensor: "w", field: "shape", expected: "an array of integers"),
        tensor: "w"),
    BadFile(
        "a fractional dimension", header: "{" + entry("w", "F32", "[1.5]", "[0,4]") + "}",
        dataLength: 4,
        expected: .invalidField(
            file: file, tensor: "w", field: "shape", expected: "an array of integers"),
        tensor: "w"),
    BadFile(
        "a negative dimension", header: "{" + entry("w", "F32", "[-1,4]", "[0,16]") + "}",
        dataLength: 16, expected: .negativeDimension(file: file, tensor: "w", shape: [-1, 4]),
        tensor: "w"),
    BadFile(
        "an unknown dtype", header: "{" + entry("w", "F128", "[1]", "[0,16]") + "}",
        dataLength: 16, expected: .unknownDType(file: file, tensor: "w", dtype: "F128"),
        tensor: "w"),
    BadFile(
        "three data offsets", header: "{" + entry("w", "F32", "[1]", "[0,4,8]") + "}",
        dataLength: 8,
        expected: .invalidField(
            file: file, tensor: "w", field: "data_offsets", expected: "two non-negative integers"),
        tensor: "w"),
    BadFile(
        "a negative data offset", header: "{" + entry("w", "F32", "[1]", "[-4,0]") + "}",
        expected: .invalidField(
            file: file, tensor: "w", field: "data_offsets", expected: "two non-negative integers"),
        tensor: "w"),
    BadFile(
        "a data offset beyond Int64",
        header: "{" + entry("w", "F32", "[1]", "[0,99999999999999999999]") + "}",
        expected: .invalidField(
            file: file, tensor: "w", field: "data_offsets", expected: "two non-negative integers"),
        tensor: "w"),
    BadFile(
        "offsets that begin after they end", header: "{" + entry("w", "F32", "[0]", "[8,4]") + "}",
        dataLength: 8, expected: .reversedOffsets(file: file, tensor: "w", begin: 8, end: 4),
        tensor: "w"),
    BadFile(
        "offsets past the data buffer", header: "{" + entry("w", "F32", "[2]", "[0,8]") + "}",
        dataLength: 4,
        expected: .offsetsBeyondData(file: file, tensor: "w", end: 8, dataLength: 4), tensor: "w"),
    BadFile(
        "a shape that needs more bytes than its offsets span",
        header: "{" + entry("w", "F32", "[2]", "[0,4]") + "}", dataLength: 4,
        expected: .byteCountMismatch(file: file, tensor: "w", expected: 8, actual: 4), tensor: "w"),
    BadFile(
        "a shape whose byte count overflows",
        header: "{" + entry("w", "F32", "[4611686018427387904,4]", "[0,0]") + "}",
        expected: .elementCountOverflow(
            file: file, tensor: "w", shape: [4_611_686_018_427_387_904, 4]),
        tensor: "w"),
    BadFile(
        "overlapping tensors",
        header: "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]")
            + "}",
        dataLength: 12,
        expected: .overlappingTensors(
            file: file, tensor: "b", previous: "a", begin: 4, previousEnd: 8),
        tensor: "b"),
    BadFile(
        "a hole between tensors",
        header: "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]")
            + "}",
        dataLength: 12, expected: .dataGap(file: file, tensor: "b", expectedBegin: 4, begin: 8),
        tensor: "b"),
    BadFile(
        "a first tensor that does not begin at zero",
        header: "{" + entry("a", "F32", "[1]", "[4,8]") + "}", dataLength: 8,
        expected: .dataGap(file: file, tensor: "a", expectedBegin: 0, begin: 4), tensor: "a"),
    BadFile(
        "bytes after the last tensor", header: "{" + entry("a", "F32", "[1]", "[0,4]") + "}",
        dataLength: 8, expected: .uncoveredTrailingData(file: file, coveredEnd: 4, dataLength: 8)),
]

@Suite("Rejecting malformed safetensors files")
struct SafeTensorsValidationTests {
    @Test("Each malformed file throws its specific error", arguments: badFiles)
    func rejects(_ bad: BadFile) {
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(data: bad.bytes, name: file)
        }
        #expect(error == bad.expected)
    }

    @Test("Every error description names the file, and the tensor where one is involved")
    func descriptionsName() {
        #expect(badFiles.count >= 30)
        for bad in badFiles {
            let description = bad.expected.description
            #expect(description.contains(file), "\(bad.label): \(description)")
            if let tensor = bad.tensor {
                #expect(description.contains("'\(tensor)'"), "\(bad.label): \(description)")
            }
            #expect(description.hasSuffix("."), "\(bad.label): \(description)")
        }
    }

    @Test("Well-formed edge cases are accepted: no tensors, and empty tensors sharing an offset")
    func acceptsEdgeCases() throws {
        let empty = safetensorsBytes(headerBytes: Array("{}".utf8), dataLength: 0)
        #expect(try SafeTensorsFile(data: empty, name: file).tensorNames.isEmpty)

        let header =
            "{" + entry("a", "F32", "[0]", "[0,0]") + "," + entry("b", "F16", "[2]", "[0,4]") + ","
            + entry("c", "BF16", "[3,0]", "[4,4]") + #","__metadata__":{"k":"v"}}  "#
        let bytes = safetensorsBytes(headerBytes: Array(header.utf8), dataLength: 4)
        let opened = try SafeTensorsFile(data: bytes, name: file)
        #expect(opened.tensorNames == ["a", "b", "c"])
        #expect(opened.metadata == ["k": "v"])
        #expect(try opened.floats("b") == [0, 0])
    }

    @Test(
        "Every truncation and many random corruptions of a valid file are handled without crashing")
    func survivesCorruption() throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("weight", shape: [2, 2], values: [1, 2, 3, 4])
        try writer.add("bias", shape: [2], values: [5, 6])
        let valid = writer.encoded()
        for length in 0..<valid.count {
            #expect(throws: SafeTensorsError.self) {
                try SafeTensorsFile(data: valid.prefix(length), name: file)
            }
        }
        var generator = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            var corrupted = valid
            for _ in 0..<3 {
                let index = Int(generator.next() % UInt64(valid.count))
                corrupted[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if let opened = try? SafeTensorsFile(data: corrupted, name: file) {
                for name in opened.tensorNames {
                    _ = try opened.floats(name)
                }
            }
        }
    }

    @Test("A Data slice that does not start at index zero is read correctly")
    func dataSlice() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", shape: [3], values: [1, 2, 3])
        let padded = Data([9, 9, 9]) + writer.encoded()
        let slice = padded[3...]
        #expect(try SafeTensorsFile(data: slice, name: file).floats("w") == [1, 2, 3])
    }
}

/// A small deterministic random number generator, so corruption tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
