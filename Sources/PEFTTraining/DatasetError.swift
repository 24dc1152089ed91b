/// A data file that cannot be read as examples, naming the file and, for a bad line, its number.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or is not UTF-8.
    case unreadableFile(path: String, reason: String)
    /// A line is not a JSON object; `reason` says what it is instead.
    case malformedLine(file: String, line: Int, reason: String)
    /// A line lacks a field, or the field is not a string.
    case missingField(file: String, line: Int, field: String)
    /// The file holds no examples.
    case empty(file: String)
    /// A line of a format that cannot be trained on yet; `reason` says why.
    case unsupportedFormat(file: String, line: Int, reason: String)

    /// One sentence naming the file, the line and what is wrong.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "\(path): cannot read the file (\(reason))"
        case .malformedLine(let file, let line, let reason):
            "\(file):\(line): \(reason)"
        case .missingField(let file, let line, let field):
            "\(file):\(line): missing the string field \"\(field)\""
        case .empty(let file):
            "\(file): no examples (every line is blank)"
        case .unsupportedFormat(let file, let line, let reason):
            "\(file):\(line): \(reason)"
        }
    }
}
