import Foundation
import PEFTTestSupport
import Testing

@testable import PEFTSafeTensors

@Suite("Writing safetensors files")
struct SafeTensorsWriterTests {
    /// A fresh, empty folder under the temporary directory.
    private func makeFolder() throws -> URL {
        let folder = testScratchRoot.appendingPathComponent(
            "safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    private func sampleWriter() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "quote \" and \\ and \n"])
        try writer.add(
            "b.weight", shape: [2, 3],
            values: [1, -2, 3.5, .infinity, -0.0, .leastNonzeroMagnitude])
        try writer.add("a.bias", shape: [3], values: [0.25, 0.5, 0.75])
        try writer.add("scalar", shape: [], values: [42])
        try writer.add("empty", shape: [0, 4], values: [])
        let copied: [Float] = [7, 8]
        try copied.withUnsafeBufferPointer { try writer.add("copied", shape: [2, 1], copying: $0) }
        return writer
    }

    @Test("Tensors written and read back keep their names, shapes, values and metadata")
    func roundTrip() throws {
        let writer = try sampleWriter()
        let file = try SafeTensorsFile(data: writer.encoded(), name: "memory")
        #expect(file.metadata == writer.metadata)
        #expect(file.tensorNames == ["a.bias", "b.weight", "copied", "empty", "scalar"])
        #expect(file.info("b.weight")?.shape == [2, 3])
        #expect(file.info("scalar")?.shape == [])
        #expect(file.info("empty")?.shape == [0, 4])
        #expect(file.info("b.weight")?.dtype == .float32)
        let weight = try file.floats("b.weight")
        let expected: [Float] = [1, -2, 3.5, .infinity, -0.0, .leastNonzeroMagnitude]
        #expect(weight.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(try file.floats("a.bias") == [0.25, 0.5, 0.75])
        #expect(try file.floats("scalar") == [42])
        #expect(try file.floats("empty") == [])
        #expect(try file.floats("copied") == [7, 8])
    }

    @Test("The header lists sorted keys and is padded with spaces to a multiple of 8 bytes")
    func headerLayout() throws {
        let data = try sampleWriter().encoded()
        let length = data.prefix(8).withUnsafeBytes {
            Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))
        }
        #expect(length % 8 == 0)
        let header = try #require(String(data: data.subdata(in: 8..<(8 + length)), encoding: .utf8))
        #expect(
            header.hasPrefix(
                #"{"__metadata__":{"format":"pt","note":"quote \" and \\ and \n"},"a.bias":"#))
        let padding = header.reversed().prefix { $0 == " " }.count
        #expect(padding < 8)
        #expect(header.dropLast(padding).last == "}")
    }

    @Test("Writing the tensors of Python's F32 fixture reproduces the file byte for byte")
    func matchesPythonBytes() throws {
        let url = try fixturesFolder().appendingPathComponent("f32.safetensors")
        let original = try SafeTensorsFile(contentsOf: url)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for name in original.tensorNames {
            let info = try #require(original.info(name))
            try writer.add(name, shape: info.shape, values: original.floats(name))
        }
        #expect(writer.encoded() == (try Data(contentsOf: url)))
    }

    @Test("Writing to disk replaces an existing file and leaves no temporary file behind")
    func atomicWrite() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("adapter_model.safetensors")
        try Data("old contents".utf8).write(to: url)

        let writer = try sampleWriter()
        try writer.write(to: url)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path) == [
                url.lastPathComponent
            ])
        #expect(try Data(contentsOf: url) == writer.encoded())

        var second = SafeTensorsWriter()
        try second.add("only", shape: [1], values: [9])
        try second.write(to: url)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path) == [
                url.lastPathComponent
            ])
        #expect(try SafeTensorsFile(contentsOf: url).tensorNames == ["only"])
    }

    @Test("A write that cannot complete throws writeFailed and leaves the destination untouched")
    func failedWrite() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A directory in the way makes the final rename fail after the data was written.
        let url = folder.appendingPathComponent("blocked.safetensors")
        try FileManager.default.createDirectory(
            at: url.appendingPathComponent("child"), withIntermediateDirectories: true)
        let error = #expect(throws: SafeTensorsError.self) { try sampleWriter().write(to: url) }
        guard case .writeFailed(let file, _) = error else {
            Issue.record("expected writeFailed, got \(String(describing: error))")
            return
        }
        #expect(file == url.path)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path) == [
                url.lastPathComponent
            ])

        let missingFolder = folder.appendingPathComponent("missing/out.safetensors")
        #expect(throws: SafeTensorsError.self) { try sampleWriter().write(to: missingFolder) }
    }

    @Test("Adding a tensor with a bad name or a shape that does not fit its values throws")
    func addErrors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", shape: [2], values: [1, 2])
        #expect(throws: SafeTensorsError.duplicateTensorName(tensor: "w")) {
            try writer.add("w", shape: [1], values: [1])
        }
        #expect(throws: SafeTensorsError.invalidTensorName(tensor: "__metadata__")) {
            try writer.add("__metadata__", shape: [1], values: [1])
        }
        #expect(throws: SafeTensorsError.invalidTensorName(tensor: "")) {
            try writer.add("", shape: [1], values: [1])
        }
        #expect(throws: SafeTensorsError.valueCountMismatch(tensor: "v", shape: [2, 2], count: 3)) {
            try writer.add("v", shape: [2, 2], values: [1, 2, 3])
        }
        #expect(throws: SafeTensorsError.valueCountMismatch(tensor: "n", shape: [-1], count: 1)) {
            try writer.add("n", shape: [-1], values: [1])
        }
        #expect(writer.tensorNames == ["w"])
    }
}
