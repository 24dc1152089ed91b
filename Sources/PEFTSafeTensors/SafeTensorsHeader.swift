// Reads and validates the header of a safetensors file, so nothing later reads out of bounds.

import PEFTJSON

/// The validated header of a safetensors file: its metadata and where each tensor lives.
struct SafeTensorsHeader: Sendable {
    /// The largest header accepted, as in the reference implementation (100 MB).
    static let maximumLength = 100_000_000

    /// The `__metadata__` entries.
    var metadata: [String: String]
    /// The tensors, sorted by where their bytes begin.
    var tensors: [SafeTensorsTensorInfo]
    /// The byte offset in the file where the data buffer begins.
    var dataStart: Int

    /// Validates the header at the start of `bytes`, the whole file named `file`.
    init(parsing bytes: UnsafeRawBufferPointer, file: String) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw .fileTooShort(file: file, byteCount: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maximumLength) else {
            throw .headerTooLarge(
                file: file, headerLength: headerLength, limit: Self.maximumLength)
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .headerBeyondFile(file: file, headerLength: headerLength, fileLength: bytes.count)
        }
        dataStart = 8 + Int(headerLength)
        let headerBytes = [UInt8](bytes[8..<dataStart])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw .headerNotUTF8(file: file)
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes)
        } catch {
            switch error {
            case .duplicateKey(let key):
                throw .duplicateKey(file: file, key: key)
            case .syntax(let reason, let offset):
                throw .invalidHeaderJSON(file: file, reason: reason, offset: offset)
            }
        }
        guard case .object(let entries) = root else {
            throw .headerNotObject(file: file, found: root.kindName)
        }
        let dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [SafeTensorsTensorInfo] = []
        try Self.checkDistinct(entries.map(\.key), file: file)
        for (key, value) in entries {
            if key == "__metadata__" {
                metadata = try Self.metadata(from: value, file: file)
            } else {
                tensors.append(
                    try Self.tensor(named: key, from: value, dataLength: dataLength, file: file))
            }
        }
        tensors.sort {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        try Self.checkContiguous(tensors, dataLength: dataLength, file: file)
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func metadata(
        from value: JSONValue, file: String
    ) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let entries) = value else {
            throw .invalidMetadata(file: file, key: nil, found: value.kindName)
        }
        try checkDistinct(entries.map(\.key), file: file)
        var metadata: [String: String] = [:]
        for (key, value) in entries {
            guard let string = value.stringValue else {
                throw .invalidMetadata(file: file, key: key, found: value.kindName)
            }
            metadata[key] = string
        }
        return metadata
    }

    /// Rejects keys that are distinct in the file but equal as Swift strings (canonically
    /// equivalent), since tensors and metadata are looked up by `String`.
    private static func checkDistinct(_ keys: [String], file: String) throws(SafeTensorsError) {
        var seen: Set<String> = []
        for key in keys where !seen.insert(key).inserted {
            throw .duplicateKey(file: file, key: key)
        }
    }

    private static func tensor(
        named name: String, from value: JSONValue, dataLength: Int, file: String
    ) throws(SafeTensorsError) -> SafeTensorsTensorInfo {
        guard case .object(let members) = value else {
            throw .entryNotObject(file: file, tensor: name, found: value.kindName)
        }
        func field(_ field: String) throws(SafeTensorsError) -> JSONValue {
            guard let member = members.first(where: { $0.key == field }) else {
                throw .missingField(file: file, tensor: name, field: field)
            }
            return member.value
        }
        func integers(_ key: String, expected: String) throws(SafeTensorsError) -> [Int] {
            guard case .array(let elements) = try field(key) else {
                throw .invalidField(file: file, tensor: name, field: key, expected: expected)
            }
            var result: [Int] = []
            for element in elements {
                guard let integer = element.intValue else {
                    throw .invalidField(file: file, tensor: name, field: key, expected: expected)
                }
                result.append(integer)
            }
            return result
        }

        guard let dtypeName = try field("dtype").stringValue else {
            throw .invalidField(file: file, tensor: name, field: "dtype", expected: "a string")
        }
        let shape = try integers("shape", expected: "an array of integers")
        let offsets = try integers("data_offsets", expected: "two non-negative integers")
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(file: file, tensor: name, dtype: dtypeName)
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .negativeDimension(file: file, tensor: name, shape: shape)
        }
        guard offsets.count == 2, offsets[0] >= 0, offsets[1] >= 0 else {
            throw .invalidField(
                file: file, tensor: name, field: "data_offsets",
                expected: "two non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw .reversedOffsets(file: file, tensor: name, begin: begin, end: end)
        }
        guard end <= dataLength else {
            throw .offsetsBeyondData(file: file, tensor: name, end: end, dataLength: dataLength)
        }
        var byteCount = dtype.byteCount
        for dimension in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw .elementCountOverflow(file: file, tensor: name, shape: shape)
            }
            byteCount = product
        }
        guard byteCount == end - begin else {
            throw .byteCountMismatch(
                file: file, tensor: name, expected: byteCount, actual: end - begin)
        }
        return SafeTensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// Checks that the sorted tensors tile the data buffer: no overlaps, holes or leftovers.
    private static func checkContiguous(
        _ tensors: [SafeTensorsTensorInfo], dataLength: Int, file: String
    ) throws(SafeTensorsError) {
        var covered = 0
        var previous: String?
        for tensor in tensors {
            let begin = tensor.byteRange.lowerBound
            if begin < covered, let previous {
                throw .overlappingTensors(
                    file: file, tensor: tensor.name, previous: previous, begin: begin,
                    previousEnd: covered)
            }
            guard begin == covered else {
                throw .dataGap(
                    file: file, tensor: tensor.name, expectedBegin: covered, begin: begin)
            }
            covered = tensor.byteRange.upperBound
            previous = tensor.name
        }
        guard covered == dataLength else {
            throw .uncoveredTrailingData(file: file, coveredEnd: covered, dataLength: dataLength)
        }
    }
}
