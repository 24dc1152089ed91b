// The safetensors layout shared by every optimizer's saved state, and its validation.

import Foundation
import PEFTSafeTensors
import PEFTTensor

/// Collects an optimizer's state tensors and metadata for one safetensors file.
package struct OptimizerStateWriter {
    private var writer: SafeTensorsWriter

    /// Starts a file for `optimizer` after `stepCount` steps with `hyperparameters` as strings.
    package init(optimizer: String, stepCount: Int, hyperparameters: [String: String]) {
        var metadata = hyperparameters
        metadata["optimizer"] = optimizer
        metadata["step_count"] = String(stepCount)
        writer = SafeTensorsWriter(metadata: metadata)
    }

    /// Adds a copy of `storage`'s elements as the tensor `key` of `shape`.
    package mutating func add(_ key: String, shape: [Int], storage: TensorStorage) throws {
        try writer.add(key, shape: shape, copying: storage.buffer)
    }

    /// Adds a per-parameter step count as a scalar, as PyTorch stores `state["step"]`.
    package mutating func add(_ key: String, step: Int) throws {
        try writer.add(key, shape: [], values: [Float(step)])
    }

    /// Adds flat element indices exactly, as the 1-D I64 tensor `key`.
    package mutating func add(_ key: String, indices: [Int]) throws {
        try writer.add(key, shape: [indices.count], int64Values: indices.map(Int64.init))
    }

    /// Writes the file atomically.
    package func write(to url: URL) throws {
        try writer.write(to: url)
    }
}

/// A saved optimizer state, checked key by key with errors that name the file and key.
package struct OptimizerStateReader {
    private let file: SafeTensorsFile
    /// The file's path, for errors.
    package let path: String

    /// Opens `url` and checks that `optimizer` wrote it.
    package init(contentsOf url: URL, optimizer: String) throws {
        file = try SafeTensorsFile(contentsOf: url)
        path = url.path
        let found = try string("optimizer")
        guard found == optimizer else {
            throw OptimizerStateError.wrongOptimizer(file: path, expected: optimizer, found: found)
        }
    }

    /// The metadata value for `key`.
    package func string(_ key: String) throws(OptimizerStateError) -> String {
        guard let value = file.metadata[key] else {
            throw .missingKey(file: path, key: key)
        }
        return value
    }

    /// The metadata value for `key`, parsed by `parse`.
    package func value<Value>(_ key: String, _ parse: (String) -> Value?)
        throws(OptimizerStateError)
        -> Value
    {
        let text = try string(key)
        guard let value = parse(text) else {
            throw .invalidValue(file: path, key: key, value: text)
        }
        return value
    }

    /// The optimizer's step count, saved as the metadata entry `step_count`.
    package func stepCount() throws(OptimizerStateError) -> Int {
        try value("step_count") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
    }

    /// Whether the file holds the tensor `key`.
    package func contains(_ key: String) -> Bool {
        file.info(key) != nil
    }

    /// Throws unless the file holds the tensor `key` with `shape`.
    private func requireTensor(_ key: String, shape: [Int]) throws(OptimizerStateError) {
        guard let info = file.info(key) else {
            throw .missingKey(file: path, key: key)
        }
        guard info.shape == shape else {
            throw .shapeMismatch(file: path, key: key, expected: shape, found: info.shape)
        }
    }

    /// The tensor `key` in new storage, after checking it has `shape`.
    package func storage(_ key: String, shape: [Int]) throws -> TensorStorage {
        try requireTensor(key, shape: shape)
        let storage = TensorStorage(count: shape.reduce(1, *))
        try file.copyFloats(key, into: storage.mutableBuffer)
        return storage
    }

    /// The per-parameter step count stored as the scalar `key`.
    package func step(_ key: String) throws -> Int {
        try requireTensor(key, shape: [])
        let value = try file.floats(key)[0]
        guard value >= 0, value == value.rounded() else {
            throw OptimizerStateError.invalidValue(file: path, key: key, value: "\(value)")
        }
        return Int(value)
    }

    /// The flat element indices stored as the 1-D I64 tensor `key`, after checking it has `count`.
    package func indices(_ key: String, count: Int) throws -> [Int] {
        try requireTensor(key, shape: [count])
        return try file.int64s(key).map { Int($0) }
    }

    /// Throws for the first tensor that is not one of `keys`.
    package func requireNoTensors(besides keys: Set<String>) throws(OptimizerStateError) {
        if let extra = file.tensorNames.first(where: { !keys.contains($0) }) {
            throw .unexpectedKey(file: path, key: extra)
        }
    }
}

/// Checks that `names` names each of `parameters` once.
package func checkParameterNames(_ names: [String], for parameters: [Parameter]) {
    precondition(
        names.count == parameters.count,
        "optimizer state: \(names.count) parameter names for \(parameters.count) parameters")
    precondition(Set(names).count == names.count, "optimizer state: parameter names repeat")
}
