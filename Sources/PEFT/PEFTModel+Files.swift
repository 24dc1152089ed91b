import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor

/// The files of an adapter folder, as PEFT names them, plus this library's resumption file.
public enum AdapterFolder {
    /// `adapter_config.json`.
    public static let configurationFile = "adapter_config.json"
    /// `adapter_model.safetensors`.
    public static let weightsFile = "adapter_model.safetensors"
    /// `prompt_encoder.safetensors`: the weights of a P-tuning encoder or a prefix projection, which PEFT
    /// does not save (its file holds only their output), kept so training resumes exactly. PEFT ignores it.
    public static let promptEncoderFile = "prompt_encoder.safetensors"
    /// The prefix PEFT puts before every module path.
    public static let keyPrefix = "base_model.model."
    /// The key of a prompt-learning adapter's output.
    public static let promptEmbeddingsKey = "prompt_embeddings"

    /// Reads an adapter folder's configuration, dispatching on `peft_type`.
    public static func readConfiguration(from folder: URL) throws -> any PEFTConfiguration {
        let url = folder.appendingPathComponent(configurationFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AdapterError.folder(path: url.path, reason: "missing file")
        }
        let type = try AdapterConfigurationFile.peftType(of: data, file: url.path)
        guard let configurationType = AdapterConfigurationRegistry.configurationType(for: type)
        else {
            let supported = AdapterConfigurationRegistry.registeredTypes.joined(separator: ", ")
            throw AdapterError.folder(
                path: url.path,
                reason: "peft_type '\(type)' is not supported (supported: \(supported))")
        }
        return try AdapterConfigurationFile.decode(configurationType, from: data, file: url.path)
    }
}

extension PEFTModel {
    /// Loads `base` with the adapter saved in `folder` as its first adapter, frozen unless `isTrainable`.
    ///
    /// With `isTrainable`, a prompt encoder saved beside the adapter (`prompt_encoder.safetensors`) comes
    /// back too, so training continues exactly where it stopped.
    public static func load(
        _ base: Base, from folder: URL, adapterName: String = "default", isTrainable: Bool = false
    ) throws -> PEFTModel<Base> {
        let configuration = try AdapterFolder.readConfiguration(from: folder)
        let model = try PEFTModel(
            base, configuration: configuration, adapterName: adapterName, loading: true)
        try model.loadWeights(from: folder, adapterName: adapterName, resumable: isTrainable)
        if !isTrainable {
            for parameter in model.trainableParameters { parameter.isTrainable = false }
        }
        return model
    }

    /// Adds the adapter saved in `folder` under `name`, without activating it.
    public func loadAdapter(from folder: URL, as name: String) throws {
        let configuration = try AdapterFolder.readConfiguration(from: folder)
        try addAdapter(name, configuration: configuration, loading: true)
        let previous = activeAdapter
        do {
            try setAdapter(name)
            try loadWeights(from: folder, adapterName: name, resumable: false)
        } catch {
            if let previous { try? setAdapter(previous) }
            try? deleteAdapter(name)
            throw error
        }
        if let previous { try setAdapter(previous) }
    }

    /// Fills the adapter's tensors from its folder: the method's own layout if it has one, else
    /// `adapter_model.safetensors`, checking every key and shape before any value changes.
    func loadWeights(from folder: URL, adapterName: String, resumable: Bool) throws {
        guard let configuration = configurations[adapterName] else {
            throw AdapterError.unknownAdapter(adapterName, known: adapterNames)
        }
        try loadWeights(
            from: folder, adapterName: adapterName, configuration: configuration,
            resumable: resumable)
    }

    private func loadWeights<C: PEFTConfiguration>(
        from folder: URL, adapterName: String, configuration: C, resumable: Bool
    ) throws {
        if try C.Method.loadWeights(
            from: folder, into: base, configuration: configuration,
            attachment: attachment(of: adapterName))
        {
            return
        }
        let url = folder.appendingPathComponent(AdapterFolder.weightsFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AdapterError.folder(path: url.path, reason: "missing file")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        var expected = tensors(of: configuration, adapterName: adapterName)
        let encoder = promptEncoders[adapterName]
        let encoderFile = folder.appendingPathComponent(AdapterFolder.promptEncoderFile)
        let resumesEncoder =
            resumable && encoder?.hasTrainingState == true
            && FileManager.default.fileExists(atPath: encoderFile.path)
        var promptOutput: Parameter?
        if let encoder {
            // The file holds the encoder's output; it loads into a stand-in and then into the encoder.
            let output = withoutGradients { encoder() }
            promptOutput = Parameter(output, trainable: false)
            expected.append((AdapterFolder.promptEmbeddingsKey, promptOutput!))
        }
        let expectedKeys = Set(expected.map(\.key))
        let missing = expected.map(\.key).filter { file.info($0) == nil }
        guard missing.isEmpty else { throw AdapterError.missingKeys(file: url.path, keys: missing) }
        let unexpected = file.tensorNames.filter { !expectedKeys.contains($0) }.sorted()
        guard unexpected.isEmpty else {
            throw AdapterError.unexpectedKeys(file: url.path, keys: unexpected)
        }
        var values: [(Parameter, Tensor)] = []
        for (key, parameter) in expected {
            let info = file.info(key)!
            guard info.shape == parameter.shape else {
                throw AdapterError.shapeMismatch(
                    key: key, expected: parameter.shape, found: info.shape)
            }
            let storage = TensorStorage(count: info.elementCount)
            try file.copyFloats(key, into: storage.mutableBuffer)
            values.append((parameter, Tensor(shape: info.shape, storage: storage)))
        }
        for (parameter, value) in values { parameter.assign(value) }
        if let encoder, let promptOutput {
            if resumesEncoder {
                let state = try SafeTensorsFile(contentsOf: encoderFile)
                do {
                    try encoder.loadParameters(from: state, strict: true)
                } catch let error as ModuleTreeError {
                    throw AdapterError.folder(path: encoderFile.path, reason: error.description)
                }
            } else {
                try encoder.loadOutput(promptOutput.value)
            }
        }
    }

    /// Saves adapters as PEFT does: `default` in `folder` itself, any other name in `folder/<name>`.
    ///
    /// Prompt methods write their encoder's output as `prompt_embeddings`, which is what Python reads;
    /// an encoder with training-only weights also writes them to `prompt_encoder.safetensors`.
    public func save(to folder: URL, adapters: [String]? = nil) throws {
        for name in adapters ?? adapterNames {
            guard let configuration = configurations[name] else {
                throw AdapterError.unknownAdapter(name, known: adapterNames)
            }
            let destination = name == "default" ? folder : folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: destination, withIntermediateDirectories: true)
            if try saveCustomLayout(configuration, adapterName: name, to: destination) { continue }
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (key, parameter) in tensors(of: configuration, adapterName: name) {
                try writer.add(key, shape: parameter.shape, values: parameter.value.scalars)
            }
            if let encoder = promptEncoders[name] {
                let output = withoutGradients { encoder() }
                try writer.add(
                    AdapterFolder.promptEmbeddingsKey, shape: output.shape, values: output.scalars)
                if encoder.hasTrainingState {
                    try encoder.saveParameters(
                        to: destination.appendingPathComponent(AdapterFolder.promptEncoderFile))
                }
            }
            try writer.write(to: destination.appendingPathComponent(AdapterFolder.weightsFile))
            try AdapterConfigurationFile.encode(configuration)
                .write(
                    to: destination.appendingPathComponent(AdapterFolder.configurationFile),
                    options: .atomic)
        }
    }

    private func saveCustomLayout<C: PEFTConfiguration>(
        _ configuration: C, adapterName: String, to folder: URL
    ) throws -> Bool {
        try C.Method.saveWeights(
            to: folder, from: base, configuration: configuration,
            attachment: attachment(of: adapterName))
    }
}
