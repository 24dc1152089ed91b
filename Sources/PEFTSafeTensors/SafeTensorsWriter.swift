import Foundation
import PEFTJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects Float32 and Int64 tensors and writes them as one safetensors file.
///
/// The header lists the tensors by sorted name and is padded with spaces to a multiple of 8 bytes,
/// as the reference Python implementation writes it; the data follows in the same order. Writing
/// is atomic: the bytes go to a temporary file in the destination's folder, which is then renamed
/// over the destination, so a failed write never leaves a partial file behind.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("lora_A.weight", shape: [8, 768], values: down)
/// try writer.add("lora_B.weight", shape: [768, 8], values: up)
/// try writer.write(to: folder.appending(path: "adapter_model.safetensors"))
/// ```
public struct SafeTensorsWriter: Sendable {
    /// The string pairs written under the header's `__metadata__` key, omitted when empty.
    public var metadata: [String: String]

    private var tensors: [String: (shape: [Int], values: StoredValues)] = [:]

    /// The elements of one tensor, in the dtype they are written as.
    private enum StoredValues: Sendable {
        case float32([Float])
        case bfloat16([UInt16])
        case int64([Int64])

        var dtype: SafeTensorsDType {
            switch self {
            case .float32: .float32
            case .bfloat16: .bfloat16
            case .int64: .int64
            }
        }

        var count: Int {
            switch self {
            case .float32(let values): values.count
            case .bfloat16(let values): values.count
            case .int64(let values): values.count
            }
        }
    }

    /// Creates a writer with no tensors.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The names of the tensors added so far, sorted, in the order they will be written.
    public var tensorNames: [String] {
        tensors.keys.sorted()
    }

    /// Adds a tensor of `shape` whose row-major `values` are stored as F32.
    ///
    /// The array is shared, not copied, until the file is written.
    ///
    /// - Throws: ``SafeTensorsError`` if the name is empty, reserved or already added, a dimension
    ///   is negative, or the shape's element count differs from `values.count`.
    public mutating func add(_ name: String, shape: [Int], values: [Float]) throws {
        try insert(name, shape: shape, values: .float32(values))
    }

    /// Adds a tensor of `shape` stored as BF16 from its bit patterns (the top halves of Float32s).
    ///
    /// - Throws: ``SafeTensorsError`` for the same reasons as the `[Float]` variant.
    public mutating func add(_ name: String, shape: [Int], bfloat16Bits values: [UInt16]) throws {
        try insert(name, shape: shape, values: .bfloat16(values))
    }

    /// Adds a tensor of `shape` whose row-major `values` are stored exactly as I64, such as the
    /// flat indices of a sparse update.
    ///
    /// - Throws: ``SafeTensorsError`` for the same reasons as the `[Float]` variant.
    public mutating func add(_ name: String, shape: [Int], int64Values values: [Int64]) throws {
        try insert(name, shape: shape, values: .int64(values))
    }

    /// Checks the name and shape, then records the tensor.
    private mutating func insert(_ name: String, shape: [Int], values: StoredValues) throws {
        guard !name.isEmpty, name != "__metadata__" else {
            throw SafeTensorsError.invalidTensorName(tensor: name)
        }
        guard tensors[name] == nil else { throw SafeTensorsError.duplicateTensorName(tensor: name) }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else {
                throw SafeTensorsError.valueCountMismatch(
                    tensor: name, shape: shape, count: values.count)
            }
            count = product
        }
        guard count == values.count else {
            throw SafeTensorsError.valueCountMismatch(
                tensor: name, shape: shape, count: values.count)
        }
        tensors[name] = (shape, values)
    }

    /// Adds a tensor of `shape` whose row-major values are copied from `values`.
    ///
    /// - Throws: ``SafeTensorsError`` for the same reasons as the `[Float]` variant.
    public mutating func add(
        _ name: String, shape: [Int], copying values: UnsafeBufferPointer<Float>
    ) throws {
        try add(name, shape: shape, values: [Float](values))
    }

    /// The header: its JSON padded with spaces to a multiple of 8 bytes.
    private func headerBytes() -> [UInt8] {
        var entries: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { ($0, JSONValue.string(metadata[$0]!)) }
            entries.append(("__metadata__", .object(pairs)))
        }
        var offset = 0
        for name in tensorNames {
            let tensor = tensors[name]!
            let end = offset + tensor.values.count * tensor.values.dtype.byteCount
            let entry: [(key: String, value: JSONValue)] = [
                ("dtype", .string(tensor.values.dtype.rawValue)),
                ("shape", .array(tensor.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(offset)), .number(String(end))])),
            ]
            entries.append((name, .object(entry)))
            offset = end
        }
        var bytes = Array(JSONValue.object(entries).jsonText.utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }

    /// Calls `body` with each piece of the file in order: length, header, then each tensor's data.
    private func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let header = headerBytes()
        try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try body($0) }
        try header.withUnsafeBytes { try body($0) }
        for name in tensorNames {
            switch tensors[name]!.values {
            case .float32(let values):
                #if _endian(little)
                    try values.withUnsafeBytes { try body($0) }
                #else
                    let bits = values.map { $0.bitPattern.littleEndian }
                    try bits.withUnsafeBytes { try body($0) }
                #endif
            case .bfloat16(let values): try Self.withLittleEndianBytes(of: values, body)
            case .int64(let values): try Self.withLittleEndianBytes(of: values, body)
            }
        }
    }

    /// Calls `body` with the little-endian bytes of `values`, as safetensors stores integers.
    private static func withLittleEndianBytes<Value: FixedWidthInteger>(
        of values: [Value], _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        #if _endian(little)
            try values.withUnsafeBytes { try body($0) }
        #else
            try values.map(\.littleEndian).withUnsafeBytes { try body($0) }
        #endif
    }

    /// The complete file as bytes in memory.
    public func encoded() -> Data {
        var data = Data()
        forEachChunk { data.append(contentsOf: $0) }
        return data
    }

    /// Writes the file to `url` atomically, replacing any file already there.
    ///
    /// - Throws: ``SafeTensorsError/writeFailed(file:reason:)`` if the temporary file cannot be
    ///   written or renamed; the destination is then unchanged and the temporary file removed.
    public func write(to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(
            ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw SafeTensorsError.writeFailed(
                file: url.path, reason: "cannot create temporary file '\(temporary.path)'")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try forEachChunk { chunk in
                    try handle.write(contentsOf: chunk)
                }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                throw SafeTensorsError.writeFailed(
                    file: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? SafeTensorsError { throw error }
            throw SafeTensorsError.writeFailed(file: url.path, reason: Self.reason(for: error))
        }
    }

    /// The system's words for a failed write ("No space left on device"), which Foundation on
    /// Linux keeps in the underlying POSIX error behind a generic "error 512".
    static func reason(for error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix = underlying, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return error.localizedDescription
    }
}
