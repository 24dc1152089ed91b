import Foundation
import PEFTSafeTensors
import PEFTTensor

/// What a lenient state-dict load left out.
public struct StateDictLoadReport: Equatable, Sendable {
    /// Model parameters the state dict did not provide; they keep their values.
    public var missingKeys: [String]
    /// State-dict entries the model has no parameter for; they were ignored.
    public var unexpectedKeys: [String]

    /// Creates a report.
    public init(missingKeys: [String], unexpectedKeys: [String]) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }
}

extension Module {
    /// Every parameter's value by path.
    public func stateDict() -> [String: Tensor] {
        Dictionary(
            uniqueKeysWithValues: namedParameters().map { ($0.path, $0.parameter.value.detached()) }
        )
    }

    /// Loads parameter values by path, checking every shape.
    ///
    /// A strict load throws ``ModuleTreeError/keyMismatch(missing:unexpected:)`` unless the keys match
    /// exactly; a lenient one loads what matches and reports the rest. Nothing is assigned when a shape
    /// disagrees, so a failed load leaves the model as it was.
    @discardableResult
    public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws
        -> StateDictLoadReport
    {
        try loadValues(
            names: Array(tensors.keys), strict: strict, shape: { tensors[$0]!.shape },
            value: { tensors[$0]! })
    }

    /// Loads parameter values from a checkpoint by path; see ``loadStateDict(_:strict:)``.
    ///
    /// `renaming` maps a checkpoint key to the model's path, or to `nil` to skip the entry (a buffer, or a
    /// tied copy). Each tensor is converted straight into its parameter's new storage: one read, no copy.
    @discardableResult
    public func loadParameters(
        from source: any TensorSource, strict: Bool = true, renaming: (String) -> String? = { $0 }
    ) throws -> StateDictLoadReport {
        var checkpointKey: [String: String] = [:]
        for name in source.tensorNames {
            if let path = renaming(name) { checkpointKey[path] = checkpointKey[path] ?? name }
        }
        var shapes: [String: [Int]] = [:]
        for (path, name) in checkpointKey { shapes[path] = try source.shape(of: name) }
        return try loadValues(
            names: Array(checkpointKey.keys), strict: strict, shape: { shapes[$0]! },
            value: { path in
                let storage = TensorStorage(count: shapes[path]!.reduce(1, *))
                try source.copyFloats(checkpointKey[path]!, into: storage.mutableBuffer)
                return Tensor(shape: shapes[path]!, storage: storage)
            })
    }

    /// Writes every parameter (or those whose path passes `filter`) to a safetensors file, atomically.
    public func saveParameters(
        to url: URL, metadata: [String: String] = ["format": "pt"],
        where filter: (String) -> Bool = { _ in true }
    ) throws {
        try saveParameters(to: url, bfloat16: false, metadata: metadata, where: filter)
    }

    /// Writes every parameter (or those whose path passes `filter`) to a safetensors file, atomically,
    /// as F32, or as BF16 (rounded to nearest even) when `bfloat16` is set.
    public func saveParameters(
        to url: URL, bfloat16: Bool, metadata: [String: String] = ["format": "pt"],
        where filter: (String) -> Bool = { _ in true }
    ) throws {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (path, parameter) in namedParameters() where filter(path) {
            let values = parameter.value.scalars
            if bfloat16 {
                try writer.add(
                    path, shape: parameter.shape, bfloat16Bits: values.map(BFloat16Bits.rounding))
            } else {
                try writer.add(path, shape: parameter.shape, values: values)
            }
        }
        try writer.write(to: url)
    }

    private func loadValues(
        names: [String], strict: Bool, shape: (String) -> [Int], value: (String) throws -> Tensor
    ) throws -> StateDictLoadReport {
        let parameters = namedParameters()
        let available = Set(names)
        let known = Set(parameters.map(\.path))
        let report = StateDictLoadReport(
            missingKeys: parameters.map(\.path).filter { !available.contains($0) },
            unexpectedKeys: names.filter { !known.contains($0) }.sorted())
        if strict && (!report.missingKeys.isEmpty || !report.unexpectedKeys.isEmpty) {
            throw ModuleTreeError.keyMismatch(
                missing: report.missingKeys, unexpected: report.unexpectedKeys)
        }
        for (path, parameter) in parameters
        where available.contains(path) && shape(path) != parameter.shape {
            throw ModuleTreeError.shapeMismatch(
                key: path, expected: parameter.shape, found: shape(path))
        }
        // Everything is read before anything is assigned, so a failed read leaves the model as it was;
        // a low-precision parameter's value is compressed as it is read, so a Float32 copy of the
        // whole model never exists.
        let values = try parameters.filter { available.contains($0.path) }.map {
            entry -> (Parameter, Tensor?, LowPrecisionMatrix?) in
            let newValue = try value(entry.path)
            guard let stored = entry.parameter.lowPrecision else {
                return (entry.parameter, newValue, nil)
            }
            return (
                entry.parameter, nil,
                LowPrecisionMatrix(newValue, format: stored.format, channelAxis: stored.channelAxis)
            )
        }
        for (parameter, dense, compressed) in values {
            if let compressed { parameter.store(compressed) } else { parameter.assign(dense!) }
        }
        return report
    }
}

extension Module {
    /// `trainable params: … || all params: … || trainable%: …`, exactly as Hugging Face PEFT prints it.
    public var trainableParameterSummary: String {
        Module.summaryLine(trainable: trainableParameterCount, total: parameterCount)
    }

    /// PEFT's summary line for the given counts.
    public static func summaryLine(trainable: Int, total: Int) -> String {
        let percent = total == 0 ? 0 : 100 * Double(trainable) / Double(total)
        return "trainable params: \(grouped(trainable)) || all params: \(grouped(total)) || "
            + "trainable%: \(String(format: "%.4f", percent))"
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ number: Int) -> String {
        let digits = String(number)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}
