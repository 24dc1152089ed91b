/// An error parsing or rendering a chat template; each message names the template's line.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The template uses syntax this interpreter does not read, or is not valid Jinja.
    case syntax(line: Int, message: String)
    /// Rendering failed: a bad operand, an unknown filter or test, an undefined value used.
    case evaluation(line: Int, message: String)
    /// The template called `raise_exception(message)`, as templates do to refuse a conversation.
    case raised(line: Int, message: String)
    /// The folder has no chat template in `chat_template.jinja` or `tokenizer_config.json`.
    case missingTemplate(folder: String)
    /// A conversation is not a list of `{"role", "content"}` objects, or a file is unreadable.
    case invalidConversation(String)

    /// One sentence naming the template line and what was wrong.
    public var description: String {
        switch self {
        case .syntax(let line, let message):
            return "Chat template line \(line): \(message)."
        case .evaluation(let line, let message):
            return "Chat template line \(line): \(message)."
        case .raised(let line, let message):
            return "Chat template line \(line) raised an exception: \(message)"
        case .missingTemplate(let folder):
            return
                "\(folder) has no chat template (chat_template.jinja or tokenizer_config.json's "
                + "\"chat_template\")."
        case .invalidConversation(let message):
            return "Invalid conversation: \(message)."
        }
    }
}
