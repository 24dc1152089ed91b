import Foundation
import PEFTTestSupport
import Testing

@testable import PEFTSafeTensors

@Suite("Reading safetensors files written by Python")
struct SafeTensorsFileTests {
    @Test(
        "Every tensor of a Python-written fixture reads back with torch's values, bit for bit",
        arguments: ["f32.safetensors", "f16.safetensors", "bf16.safetensors", "mixed.safetensors"])
    func fixtureValues(fileName: String) throws {
        let expected = try #require(try expectedFixtures()[fileName])
        let file = try SafeTensorsFile(
            contentsOf: fixturesFolder().appendingPathComponent(fileName))
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.tensorNames) == Set(expected.tensors.keys))
        for (name, tensor) in expected.tensors {
            let info = try #require(file.info(name))
            #expect(info.shape == tensor.shape, "shape of \(name)")
            let values = try file.floats(name)
            #expect(values.count == tensor.bits.count, "count of \(name)")
            for (index, (value, bits)) in zip(values, tensor.bits).enumerated() {
                #expect(
                    sameFloat(value, bits),
                    "\(fileName) \(name)[\(index)] is \(value), expected \(Float(bitPattern: bits))"
                )
            }
        }
    }

    @Test("Each fixture records the dtype Python stored")
    func fixtureDTypes() throws {
        let folder = try fixturesFolder()
        let expected: [(String, String, SafeTensorsDType)] = [
            ("f32.safetensors", "weight", .float32),
            ("f16.safetensors", "weight", .float16),
            ("bf16.safetensors", "weight", .bfloat16),
            ("mixed.safetensors", "f64", .float64),
            ("mixed.safetensors", "i64", .int64),
            ("mixed.safetensors", "bool", .bool),
            ("mixed.safetensors", "f8_e4m3", .float8E4M3),
            ("mixed.safetensors", "f8_e5m2", .float8E5M2),
        ]
        for (fileName, tensor, dtype) in expected {
            let file = try SafeTensorsFile(contentsOf: folder.appendingPathComponent(fileName))
            #expect(file.info(tensor)?.dtype == dtype, "\(fileName) \(tensor)")
        }
    }

    @Test("Tensor names are listed in the order their bytes appear, and byte ranges tile the data")
    func tensorOrder() throws {
        let url = try fixturesFolder().appendingPathComponent("f16.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.tensorNames == ["awkward", "bias", "empty", "scalar", "weight"])
        var end = 0
        for name in file.tensorNames {
            let info = try #require(file.info(name))
            #expect(info.byteRange.lowerBound == end)
            #expect(info.byteRange.count == info.elementCount * 2)
            end = info.byteRange.upperBound
        }
        #expect(file.info("scalar")?.shape == [])
        #expect(file.info("scalar")?.elementCount == 1)
        #expect(file.info("empty")?.elementCount == 0)
    }

    @Test("copyFloats fills caller memory and refuses a buffer of the wrong size")
    func copyFloats() throws {
        let file = try SafeTensorsFile(
            contentsOf: fixturesFolder().appendingPathComponent("bf16.safetensors"))
        var buffer = [Float](repeating: .nan, count: 12)
        try buffer.withUnsafeMutableBufferPointer { try file.copyFloats("weight", into: $0) }
        #expect(buffer == (0..<12).map { Float($0) * 0.5 - 2 })

        var short = [Float](repeating: 0, count: 11)
        #expect(
            throws: SafeTensorsError.elementCountMismatch(
                file: file.name, tensor: "weight", expected: 12, actual: 11)
        ) {
            try short.withUnsafeMutableBufferPointer { try file.copyFloats("weight", into: $0) }
        }
    }

    @Test("Looking up a missing tensor throws an error naming the tensor and the file")
    func missingTensor() throws {
        let url = try fixturesFolder().appendingPathComponent("f32.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.info("nope") == nil)
        let error = #expect(throws: SafeTensorsError.self) { try file.floats("nope") }
        #expect(error == .tensorNotFound(file: url.path, tensor: "nope"))
        #expect(error?.description.contains("'nope'") == true)
        #expect(error?.description.contains(url.path) == true)
    }

    @Test("A missing file throws fileUnreadable naming the path")
    func missingFile() throws {
        let url = testScratchRoot.appendingPathComponent(
            "no-such-\(UUID().uuidString).safetensors")
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) }
        guard case .fileUnreadable(let file, _) = error else {
            Issue.record("expected fileUnreadable, got \(String(describing: error))")
            return
        }
        #expect(file == url.path)
    }

    @Test("An empty file on disk is reported as too short, not as unreadable")
    func emptyFile() throws {
        let url = testScratchRoot.appendingPathComponent(
            "empty-\(UUID().uuidString).safetensors")
        try Data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: SafeTensorsError.fileTooShort(file: url.path, byteCount: 0)) {
            try SafeTensorsFile(contentsOf: url)
        }
    }

    @Test("Raw bytes of a tensor are its little-endian stored elements")
    func rawBytes() throws {
        let file = try SafeTensorsFile(
            contentsOf: fixturesFolder().appendingPathComponent("mixed.safetensors"))
        let bytes = try file.withUnsafeBytes(of: "u8") { Array($0) }
        #expect(bytes == [0, 1, 128, 255])
    }
}
