import Foundation

/// Writes `message` and a newline to standard error, where progress goes so standard output keeps
/// only the results.
public func printToStandardError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
