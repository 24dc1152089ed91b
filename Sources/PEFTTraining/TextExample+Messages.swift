// `{"messages": [...]}` lines outside `peft train`'s chat path: rendering them needs the model
// folder's chat template and tokenizer, which `peft train --model` reads (Train+Chat.swift).

extension TextExample {
    /// The example a `{"messages": [...]}` line stands for.
    ///
    /// - Throws: ``DatasetError/unsupportedFormat(file:line:reason:)``: such lines are read by
    ///   `peft train` with a decoder-only `--model` whose folder has a chat template.
    public static func chatExample(from fields: [String: Any], file: String, line: Int) throws
        -> TextExample
    {
        throw DatasetError.unsupportedFormat(
            file: file, line: line,
            reason:
                "{\"messages\"} lines need a decoder-only --model with a chat template "
                + "(peft train renders them; this reader cannot)")
    }
}
