import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor

/// The two files of an adapter folder, as PEFT names them.
public enum AdapterFolder {
    /// `adapter_config.json`.
    public static let configurationFile = "adapter_config.json"
    /// `adapter_model.safetensors`.
    public static let weightsFile = "adapter_model.safetensors"
    /// The prefix PEFT puts before every module path.
    public static let keyPrefix = "base_model.model."

    /// Reads an adapter folder's configuration, dispatching on `peft_type`.
    public static func readConfiguration(from folder: URL) throws -> any PEFTConfiguration {
        let url = folder.appendingPathComponent(configurationFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AdapterError.folder(path: url.path, reason: "missing file")
        }
        let type = try AdapterConfigurationFile.peftType(of: data, file: url.path)
        guard let configurationType = registeredConfigurations[type] else {
            throw AdapterError.folder(
                path: url.path,
                reason:
                    "peft_type '\(type)' is not supported (supported: \(registeredConfigurations.keys.sorted().joined(separator: ", ")))"
            )
        }
        return try AdapterConfigurationFile.decode(configurationType, from: data, file: url.path)
    }

    /// The configuration types by `peft_type`.
    static let registeredConfigurations: [String: any PEFTConfiguration.Type] = [
        LoRAConfiguration.peftType: LoRAConfiguration.self
    ]
}

extension PEFTModel {
    /// Loads `base` with the adapter saved in `folder` as its first adapter, frozen unless `isTrainable`.
    public static func load(
        _ base: Module, from folder: URL, adapterName: String = "default", isTrainable: Bool = false
    ) throws -> PEFTModel {
        let configuration = try AdapterFolder.readConfiguration(from: folder)
        let model = try PEFTModel(
            base, erasedConfiguration: configuration, adapterName: adapterName)
        try model.loadWeights(from: folder, adapterName: adapterName)
        if !isTrainable {
            for parameter in model.trainableParameters { parameter.isTrainable = false }
        }
        return model
    }

    convenience init(
        _ base: Module, erasedConfiguration: any PEFTConfiguration, adapterName: String
    ) throws {
        try self.init(base, configuration: erasedConfiguration, adapterName: adapterName)
    }

    /// Adds the adapter saved in `folder` under `name`, without activating it.
    public func loadAdapter(from folder: URL, as name: String) throws {
        let configuration = try AdapterFolder.readConfiguration(from: folder)
        try addAdapter(name, configuration: configuration)
        let previous = activeAdapter
        try setAdapter(name)
        defer { try? setAdapter(previous) }
        try loadWeights(from: folder, adapterName: name)
    }

    /// Fills the adapter's tensors from `adapter_model.safetensors`, checking every key and shape first.
    func loadWeights(from folder: URL, adapterName: String) throws {
        let url = folder.appendingPathComponent(AdapterFolder.weightsFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AdapterError.folder(path: url.path, reason: "missing file")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        let expected = tensors(of: configurations[adapterName]!, adapterName: adapterName)
        var available: [String: String] = [:]
        for name in file.tensorNames {
            let key =
                name.hasPrefix(AdapterFolder.keyPrefix)
                ? String(name.dropFirst(AdapterFolder.keyPrefix.count)) : name
            available[key] = name
        }
        let expectedKeys = Set(expected.map(\.key))
        let missing = expected.map(\.key).filter { available[$0] == nil }
        guard missing.isEmpty else { throw AdapterError.missingKeys(file: url.path, keys: missing) }
        let unexpected = available.keys.filter { !expectedKeys.contains($0) }.sorted()
        guard unexpected.isEmpty else {
            throw AdapterError.unexpectedKeys(file: url.path, keys: unexpected)
        }
        var values: [(Parameter, Tensor)] = []
        for (key, parameter) in expected {
            let info = file.info(available[key]!)!
            guard info.shape == parameter.shape else {
                throw AdapterError.shapeMismatch(
                    key: key, expected: parameter.shape, found: info.shape)
            }
            let storage = TensorStorage(count: info.elementCount)
            try file.copyFloats(available[key]!, into: storage.mutableBuffer)
            values.append((parameter, Tensor(shape: info.shape, storage: storage)))
        }
        for (parameter, value) in values { parameter.assign(value) }
    }

    /// Saves adapters as PEFT does: `default` in `folder` itself, any other name in `folder/<name>`.
    public func save(to folder: URL, adapters: [String]? = nil) throws {
        for name in adapters ?? adapterNames {
            guard let configuration = configurations[name] else {
                throw AdapterError.unknownAdapter(name, known: adapterNames)
            }
            let destination = name == "default" ? folder : folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: destination, withIntermediateDirectories: true)
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (key, parameter) in tensors(of: configuration, adapterName: name) {
                try writer.add(
                    AdapterFolder.keyPrefix + key, shape: parameter.shape,
                    values: parameter.value.scalars)
            }
            try writer.write(to: destination.appendingPathComponent(AdapterFolder.weightsFile))
            try AdapterConfigurationFile.encode(configuration)
                .write(
                    to: destination.appendingPathComponent(AdapterFolder.configurationFile),
                    options: .atomic)
        }
    }
}
