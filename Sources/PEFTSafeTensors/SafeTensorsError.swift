/// A safetensors file, index or write request that cannot be used, with where and why.
///
/// Every case names the file (its path, or the name given to ``SafeTensorsFile/init(data:name:)``)
/// and, where one is involved, the tensor, so a message alone locates the problem.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read from disk.
    case fileUnreadable(file: String, reason: String)
    /// The file is too short to hold the 8-byte header length.
    case fileTooShort(file: String, byteCount: Int)
    /// The header length exceeds the limit on header size.
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header length runs past the end of the file.
    case headerBeyondFile(file: String, headerLength: UInt64, fileLength: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not valid JSON; `offset` is the byte in the header where reading stopped.
    case invalidHeaderJSON(file: String, reason: String, offset: Int)
    /// A JSON object in the header names the same key twice, or two keys that are canonically
    /// equivalent (equal as Swift strings, such as "é" and "e\u{301}").
    case duplicateKey(file: String, key: String)
    /// The header's top-level value is not a JSON object.
    case headerNotObject(file: String, found: String)
    /// `__metadata__` is not an object of strings; `key` is nil when `__metadata__` itself is
    /// not an object.
    case invalidMetadata(file: String, key: String?, found: String)
    /// A tensor's header entry is not a JSON object.
    case entryNotObject(file: String, tensor: String, found: String)
    /// A tensor's header entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// A field of a tensor's header entry has the wrong JSON type.
    case invalidField(file: String, tensor: String, field: String, expected: String)
    /// A tensor's `dtype` is not one of ``SafeTensorsDType``.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A tensor's shape has a negative dimension.
    case negativeDimension(file: String, tensor: String, shape: [Int])
    /// A tensor's shape has more elements, or bytes, than an `Int` can count.
    case elementCountOverflow(file: String, tensor: String, shape: [Int])
    /// A tensor's `data_offsets` begin after they end.
    case reversedOffsets(file: String, tensor: String, begin: Int, end: Int)
    /// A tensor's `data_offsets` end past the end of the data buffer.
    case offsetsBeyondData(file: String, tensor: String, end: Int, dataLength: Int)
    /// A tensor's byte range does not match its shape times its dtype's size.
    case byteCountMismatch(file: String, tensor: String, expected: Int, actual: Int)
    /// A tensor's bytes begin before the previous tensor's bytes end.
    case overlappingTensors(
        file: String, tensor: String, previous: String, begin: Int, previousEnd: Int)
    /// A tensor's bytes begin after the previous tensor's bytes end, leaving a hole.
    case dataGap(file: String, tensor: String, expectedBegin: Int, begin: Int)
    /// The tensors end before the data buffer does, leaving bytes no tensor owns.
    case uncoveredTrailingData(file: String, coveredEnd: Int, dataLength: Int)
    /// No tensor has the requested name.
    case tensorNotFound(file: String, tensor: String)
    /// A destination buffer's size differs from the tensor's element count.
    case elementCountMismatch(file: String, tensor: String, expected: Int, actual: Int)
    /// A tensor to write has an empty name or the reserved name `__metadata__`.
    case invalidTensorName(tensor: String)
    /// Two tensors to write share a name.
    case duplicateTensorName(tensor: String)
    /// A tensor to write has a shape whose element count differs from its number of values.
    case valueCountMismatch(tensor: String, shape: [Int], count: Int)
    /// Writing the file failed; no partial file was left at the destination.
    case writeFailed(file: String, reason: String)
    /// A sharded checkpoint's index file is not the expected JSON.
    case invalidIndex(file: String, reason: String)
    /// A shard file name in an index would leave the checkpoint's folder.
    case unsafeShardName(file: String, tensor: String, shard: String)
    /// A shard does not contain a tensor that the index assigns to it.
    case tensorMissingFromShard(file: String, tensor: String, shard: String)

    /// One sentence naming the file, the tensor where there is one, and the numbers involved.
    public var description: String {
        switch self {
        case .fileUnreadable(let file, let reason):
            "Cannot read safetensors file '\(file)': \(reason)."
        case .fileTooShort(let file, let byteCount):
            "Safetensors file '\(file)' has \(byteCount) bytes, "
                + "fewer than the 8-byte header length."
        case .headerTooLarge(let file, let headerLength, let limit):
            "Safetensors file '\(file)' declares a \(headerLength)-byte header, "
                + "more than the \(limit)-byte limit."
        case .headerBeyondFile(let file, let headerLength, let fileLength):
            "Safetensors file '\(file)' declares a \(headerLength)-byte header "
                + "but has only \(fileLength) bytes."
        case .headerNotUTF8(let file):
            "The header of safetensors file '\(file)' is not valid UTF-8."
        case .invalidHeaderJSON(let file, let reason, let offset):
            "The header of safetensors file '\(file)' is not valid JSON "
                + "at byte \(offset): \(reason)."
        case .duplicateKey(let file, let key):
            "The header of safetensors file '\(file)' repeats the key '\(key)'."
        case .headerNotObject(let file, let found):
            "The header of safetensors file '\(file)' is \(found), not a JSON object."
        case .invalidMetadata(let file, let key?, let found):
            "Metadata '\(key)' in safetensors file '\(file)' is \(found), not a string."
        case .invalidMetadata(let file, nil, let found):
            "The __metadata__ of safetensors file '\(file)' is \(found), not an object of strings."
        case .entryNotObject(let file, let tensor, let found):
            "The header entry of tensor '\(tensor)' in '\(file)' is \(found), not an object."
        case .missingField(let file, let tensor, let field):
            "Tensor '\(tensor)' in '\(file)' has no '\(field)'."
        case .invalidField(let file, let tensor, let field, let expected):
            "The '\(field)' of tensor '\(tensor)' in '\(file)' is not \(expected)."
        case .unknownDType(let file, let tensor, let dtype):
            "Tensor '\(tensor)' in '\(file)' has unknown dtype '\(dtype)'."
        case .negativeDimension(let file, let tensor, let shape):
            "Tensor '\(tensor)' in '\(file)' has a negative dimension in shape \(shape)."
        case .elementCountOverflow(let file, let tensor, let shape):
            "Tensor '\(tensor)' in '\(file)' has shape \(shape), too large to count."
        case .reversedOffsets(let file, let tensor, let begin, let end):
            "Tensor '\(tensor)' in '\(file)' has data_offsets [\(begin), \(end)] "
                + "that begin after they end."
        case .offsetsBeyondData(let file, let tensor, let end, let dataLength):
            "Tensor '\(tensor)' in '\(file)' ends at byte \(end), "
                + "past the \(dataLength)-byte data buffer."
        case .byteCountMismatch(let file, let tensor, let expected, let actual):
            "Tensor '\(tensor)' in '\(file)' needs \(expected) bytes for its shape and dtype "
                + "but its data_offsets span \(actual)."
        case .overlappingTensors(let file, let tensor, let previous, let begin, let previousEnd):
            "Tensor '\(tensor)' in '\(file)' begins at byte \(begin), "
                + "overlapping tensor '\(previous)', which ends at byte \(previousEnd)."
        case .dataGap(let file, let tensor, let expectedBegin, let begin):
            "Tensor '\(tensor)' in '\(file)' begins at byte \(begin), "
                + "leaving a gap after byte \(expectedBegin)."
        case .uncoveredTrailingData(let file, let coveredEnd, let dataLength):
            "The tensors in '\(file)' cover \(coveredEnd) bytes "
                + "of a \(dataLength)-byte data buffer."
        case .tensorNotFound(let file, let tensor):
            "There is no tensor '\(tensor)' in '\(file)'."
        case .elementCountMismatch(let file, let tensor, let expected, let actual):
            "Tensor '\(tensor)' in '\(file)' has \(expected) elements "
                + "but the destination holds \(actual)."
        case .invalidTensorName(let tensor):
            "Cannot write a tensor named '\(tensor)': the name is empty or reserved."
        case .duplicateTensorName(let tensor):
            "Cannot write two tensors named '\(tensor)'."
        case .valueCountMismatch(let tensor, let shape, let count):
            "Cannot write tensor '\(tensor)': shape \(shape) does not hold \(count) values."
        case .writeFailed(let file, let reason):
            "Cannot write safetensors file '\(file)': \(reason)."
        case .invalidIndex(let file, let reason):
            "Safetensors index '\(file)' is invalid: \(reason)."
        case .unsafeShardName(let file, let tensor, let shard):
            "Safetensors index '\(file)' puts tensor '\(tensor)' in shard '\(shard)', "
                + "a name that leaves the checkpoint's folder."
        case .tensorMissingFromShard(let file, let tensor, let shard):
            "Safetensors index '\(file)' puts tensor '\(tensor)' in shard '\(shard)', "
                + "which does not contain it."
        }
    }
}
