import Foundation

/// A checkpoint split over several safetensors files, read through its index.
///
/// Each shard is opened the first time one of its tensors is needed, and then kept, so no shard
/// is read twice. Lookups check that the shard really holds the tensor the index assigns to it.
///
/// ```swift
/// let checkpoint = try ShardedSafeTensors(
///     indexURL: folder.appending(path: "model.safetensors.index.json"))
/// let embedding = try checkpoint.floats("model.embed_tokens.weight")
/// ```
public final class ShardedSafeTensors: @unchecked Sendable {
    /// The index that maps tensor names to shard files.
    public let index: SafeTensorsIndex
    /// The folder holding the index and the shards.
    public let folder: URL

    private let indexName: String
    private let lock = NSLock()
    private var openShards: [String: SafeTensorsFile] = [:]

    /// Reads the index at `indexURL`; shards are found beside it and opened when first used.
    ///
    /// - Throws: ``SafeTensorsError`` if the index cannot be read or is invalid.
    public init(indexURL: URL) throws {
        self.index = try SafeTensorsIndex(contentsOf: indexURL)
        self.folder = indexURL.deletingLastPathComponent()
        self.indexName = indexURL.path
    }

    /// Every tensor named in the index, sorted.
    public var tensorNames: [String] {
        index.weightMap.keys.sorted()
    }

    /// The opened shard holding the tensor named `tensor`.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` if the index does not list it,
    ///   an error opening the shard, or
    ///   ``SafeTensorsError/tensorMissingFromShard(file:tensor:shard:)``.
    public func shard(containing tensor: String) throws -> SafeTensorsFile {
        guard let shardName = index.weightMap[tensor] else {
            throw SafeTensorsError.tensorNotFound(file: indexName, tensor: tensor)
        }
        let file = try openShard(shardName)
        guard file.info(tensor) != nil else {
            throw SafeTensorsError.tensorMissingFromShard(
                file: indexName, tensor: tensor, shard: shardName)
        }
        return file
    }

    /// The dtype, shape and byte range of the tensor named `tensor`, within its shard.
    ///
    /// - Throws: the errors of ``shard(containing:)``.
    public func info(_ tensor: String) throws -> SafeTensorsTensorInfo {
        try shard(containing: tensor).requireInfo(tensor)
    }

    /// The values of the tensor named `tensor` in row-major order, converted to Float32.
    ///
    /// - Throws: the errors of ``shard(containing:)``.
    public func floats(_ tensor: String) throws -> [Float] {
        try shard(containing: tensor).floats(tensor)
    }

    /// Converts the tensor named `tensor` to Float32 directly into `destination`.
    ///
    /// - Throws: the errors of ``shard(containing:)`` and ``SafeTensorsFile/copyFloats(_:into:)``.
    public func copyFloats(_ tensor: String, into destination: UnsafeMutableBufferPointer<Float>)
        throws
    {
        try shard(containing: tensor).copyFloats(tensor, into: destination)
    }

    private func openShard(_ shardName: String) throws -> SafeTensorsFile {
        lock.lock()
        defer { lock.unlock() }
        if let file = openShards[shardName] {
            return file
        }
        let file = try SafeTensorsFile(contentsOf: folder.appendingPathComponent(shardName))
        openShards[shardName] = file
        return file
    }
}
