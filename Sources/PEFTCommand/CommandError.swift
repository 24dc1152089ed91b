import Foundation

/// A problem with the command's input, reported as one line on standard error.
struct CommandError: Error, CustomStringConvertible {
    /// The sentence shown to the user.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Parses `5,17,42` into token ids, naming the option when it fails.
func parseTokenIDs(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    var ids: [Int] = []
    for part in parts {
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)) else {
            throw CommandError(
                "\(option): '\(part)' is not a token id (expected comma-separated integers)")
        }
        ids.append(id)
    }
    guard !ids.isEmpty else { throw CommandError("\(option): no token ids given") }
    return ids
}

/// Checks that every id is inside the vocabulary.
func checkRange(_ ids: [Int], vocabularySize: Int, option: String) throws {
    if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
        throw CommandError("\(option): token id \(bad) is out of range 0..<\(vocabularySize)")
    }
}
