// The seam where chat data joins training: `{"messages": [...]}` lines become examples through a
// chat template, which this file alone will call once templates are supported.

extension TextExample {
    /// The example a `{"messages": [...]}` line stands for.
    ///
    /// - Throws: ``DatasetError/unsupportedFormat(file:line:reason:)``: chat data needs a chat
    ///   template, which is not yet supported.
    public static func chatExample(from fields: [String: Any], file: String, line: Int) throws
        -> TextExample
    {
        throw DatasetError.unsupportedFormat(
            file: file, line: line, reason: "chat data needs a chat template (not yet supported)")
    }
}
