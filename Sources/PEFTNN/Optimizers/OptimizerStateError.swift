/// An optimizer state file that cannot be loaded, naming the file and the key at fault.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file was written by a different optimizer.
    case wrongOptimizer(file: String, expected: String, found: String)
    /// A metadata entry or tensor the optimizer needs is absent.
    case missingKey(file: String, key: String)
    /// A tensor belongs to no parameter and state this optimizer knows.
    case unexpectedKey(file: String, key: String)
    /// A metadata value or stored step count is not the number or flag it should be.
    case invalidValue(file: String, key: String, value: String)
    /// A state tensor's shape differs from its parameter's.
    case shapeMismatch(file: String, key: String, expected: [Int], found: [Int])

    /// One sentence naming the file, the key and what is wrong.
    public var description: String {
        switch self {
        case .wrongOptimizer(let file, let expected, let found):
            "Optimizer state '\(file)' was written by \(found), not \(expected)."
        case .missingKey(let file, let key):
            "Optimizer state '\(file)' has no '\(key)'."
        case .unexpectedKey(let file, let key):
            "Optimizer state '\(file)' has '\(key)', which names no parameter state of this "
                + "optimizer."
        case .invalidValue(let file, let key, let value):
            "Optimizer state '\(file)' has '\(key)' = '\(value)', which is not a valid value."
        case .shapeMismatch(let file, let key, let expected, let found):
            "Optimizer state '\(file)' has '\(key)' of shape \(found), expected \(expected)."
        }
    }
}
