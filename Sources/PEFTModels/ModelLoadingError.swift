/// Errors from reading a Hugging Face model folder; each names the file and the key or tensor.
public enum ModelLoadingError: Error, CustomStringConvertible, Equatable {
    /// The folder does not exist or is not a folder.
    case folderNotFound(path: String)
    /// A file the folder must contain is missing.
    case missingFile(path: String)
    /// `config.json` is not valid JSON or a key has the wrong type or value.
    case malformedConfig(file: String, key: String, reason: String)
    /// `model_type` names an architecture this library does not implement.
    case unsupportedModelType(file: String, modelType: String, supported: [String])
    /// A checkpoint tensor could not be loaded.
    case checkpoint(file: String, reason: String)

    /// One sentence naming the file and the key or tensor.
    public var description: String {
        switch self {
        case .folderNotFound(let path): "model folder '\(path)' does not exist"
        case .missingFile(let path): "missing file '\(path)'"
        case .malformedConfig(let file, let key, let reason):
            "\(file): key '\(key)': \(reason)"
        case .unsupportedModelType(let file, let modelType, let supported):
            "\(file): model_type '\(modelType)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .checkpoint(let file, let reason): "\(file): \(reason)"
        }
    }
}
