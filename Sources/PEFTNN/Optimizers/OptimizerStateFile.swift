// The safetensors layout shared by every optimizer's saved state, and its validation.

import Foundation
import PEFTSafeTensors
import PEFTTensor

/// Collects an optimizer's state tensors and metadata for one safetensors file.
struct OptimizerStateWriter {
    private var writer: SafeTensorsWriter

    /// Starts a file for `optimizer` after `stepCount` steps with `hyperparameters` as strings.
    init(optimizer: String, stepCount: Int, hyperparameters: [String: String]) {
        var metadata = hyperparameters
        metadata["optimizer"] = optimizer
        metadata["step_count"] = String(stepCount)
        writer = SafeTensorsWriter(metadata: metadata)
    }

    /// Adds a copy of `storage`'s elements as the tensor `key` of `shape`.
    mutating func add(_ key: String, shape: [Int], storage: TensorStorage) throws {
        try writer.add(key, shape: shape, copying: storage.buffer)
    }

    /// Adds a per-parameter step count as a scalar, as PyTorch stores `state["step"]`.
    mutating func add(_ key: String, step: Int) throws {
        try writer.add(key, shape: [], values: [Float(step)])
    }

    /// Writes the file atomically.
    func write(to url: URL) throws {
        try writer.write(to: url)
    }
}

/// A saved optimizer state, checked key by key with errors that name the file and key.
struct OptimizerStateReader {
    private let file: SafeTensorsFile
    private let path: String

    /// Opens `url` and checks that `optimizer` wrote it.
    init(contentsOf url: URL, optimizer: String) throws {
        file = try SafeTensorsFile(contentsOf: url)
        path = url.path
        let found = try string("optimizer")
        guard found == optimizer else {
            throw OptimizerStateError.wrongOptimizer(file: path, expected: optimizer, found: found)
        }
    }

    /// The metadata value for `key`.
    func string(_ key: String) throws(OptimizerStateError) -> String {
        guard let value = file.metadata[key] else {
            throw .missingKey(file: path, key: key)
        }
        return value
    }

    /// The metadata value for `key`, parsed by `parse`.
    func value<Value>(_ key: String, _ parse: (String) -> Value?) throws(OptimizerStateError)
        -> Value
    {
        let text = try string(key)
        guard let value = parse(text) else {
            throw .invalidValue(file: path, key: key, value: text)
        }
        return value
    }

    /// Whether the file holds the tensor `key`.
    func contains(_ key: String) -> Bool {
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
    func storage(_ key: String, shape: [Int]) throws -> TensorStorage {
        try requireTensor(key, shape: shape)
        let storage = TensorStorage(count: shape.reduce(1, *))
        try file.copyFloats(key, into: storage.mutableBuffer)
        return storage
    }

    /// The per-parameter step count stored as the scalar `key`.
    func step(_ key: String) throws -> Int {
        try requireTensor(key, shape: [])
        let value = try file.floats(key)[0]
        guard value >= 0, value == value.rounded() else {
            throw OptimizerStateError.invalidValue(file: path, key: key, value: "\(value)")
        }
        return Int(value)
    }

    /// Throws for the first tensor that is not one of `keys`.
    func requireNoTensors(besides keys: Set<String>) throws(OptimizerStateError) {
        if let extra = file.tensorNames.first(where: { !keys.contains($0) }) {
            throw .unexpectedKey(file: path, key: extra)
        }
    }
}

/// Checks that `names` names each of `parameters` once.
func checkParameterNames(_ names: [String], for parameters: [Parameter]) {
    precondition(
        names.count == parameters.count,
        "optimizer state: \(names.count) parameter names for \(parameters.count) parameters")
    precondition(Set(names).count == names.count, "optimizer state: parameter names repeat")
}
