import Foundation

/// A safetensors file, validated when opened and read tensor by tensor.
///
/// The file is read once, memory-mapped where the platform allows, and its header is checked
/// completely before any tensor is read: every tensor's byte range lies inside the file, matches
/// its shape and dtype, and the ranges tile the data buffer with no overlaps or holes.
///
/// ```swift
/// let file = try SafeTensorsFile(contentsOf: folder.appending(path: "adapter_model.safetensors"))
/// for name in file.tensorNames {
///     print(name, file.info(name)!.shape)
/// }
/// let weight = try file.floats("base_model.model.lm_head.lora_A.weight")
/// ```
public struct SafeTensorsFile: Sendable {
    /// The file's path, or the name given to ``init(data:name:)``; used in error messages.
    public let name: String
    /// The string pairs stored under the header's `__metadata__` key.
    public let metadata: [String: String]
    /// The tensors' names, in the order their bytes appear in the file.
    public let tensorNames: [String]

    private let tensors: [String: SafeTensorsTensorInfo]
    private let storage: Data
    private let dataStart: Int

    /// Opens and validates the safetensors file at `url`.
    ///
    /// - Throws: ``SafeTensorsError`` if the file cannot be read or its header is invalid.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafeTensorsError.fileUnreadable(
                file: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, name: url.path)
    }

    /// Validates the safetensors bytes in `data`, using `name` in error messages.
    ///
    /// - Throws: ``SafeTensorsError`` if the header is invalid.
    public init(data: Data, name: String) throws {
        let header = try data.withUnsafeBytes { bytes throws(SafeTensorsError) in
            try SafeTensorsHeader(parsing: bytes, file: name)
        }
        self.name = name
        self.metadata = header.metadata
        self.tensorNames = header.tensors.map(\.name)
        self.tensors = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0) })
        self.storage = data
        self.dataStart = header.dataStart
    }

    /// The dtype, shape and byte range of the tensor named `tensor`, or nil if there is none.
    public func info(_ tensor: String) -> SafeTensorsTensorInfo? {
        tensors[tensor]
    }

    /// Calls `body` with the raw little-endian bytes of the tensor named `tensor`.
    ///
    /// The buffer is valid only during the call.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``, or what `body` throws.
    public func withUnsafeBytes<Result>(
        of tensor: String, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        let info = try requireInfo(tensor)
        let range =
            (dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound)
        return try storage.withUnsafeBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
    }

    /// The description of the tensor named `tensor`.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` if there is none.
    func requireInfo(_ tensor: String) throws -> SafeTensorsTensorInfo {
        guard let info = tensors[tensor] else {
            throw SafeTensorsError.tensorNotFound(file: name, tensor: tensor)
        }
        return info
    }
}
