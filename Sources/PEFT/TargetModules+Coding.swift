import Foundation

/// PEFT's module-selection keys (`target_modules`, `exclude_modules`, `layers_to_transform`,
/// `layers_pattern`), read, written and checked alike by every method that wraps layers.
extension KeyedDecodingContainer {
    /// `target_modules` or `exclude_modules`: absent or null, `"all-linear"` (when `allowsAllLinear`),
    /// a regular expression, or a list of name suffixes.
    func decodeTargetModules(forKey key: Key, allowsAllLinear: Bool = true) throws
        -> TargetModules?
    {
        switch try decodeStringOrList(forKey: key) {
        case nil: return nil
        case .string("all-linear") where allowsAllLinear: return .allLinear
        case .string(let pattern): return .pattern(pattern)
        case .list(let names): return .suffixes(names)
        }
    }

    /// `layers_pattern`: absent or null, one name, or a list of names.
    func decodeNames(forKey key: Key) throws -> [String]? {
        switch try decodeStringOrList(forKey: key) {
        case nil: return nil
        case .string(let name): return [name]
        case .list(let names): return names
        }
    }
}

extension KeyedEncodingContainer {
    /// Writes `targets` as PEFT writes `target_modules`: null for the family's default.
    mutating func encodeTargetModules(_ targets: TargetModules?, forKey key: Key) throws {
        switch targets {
        case nil, .automatic: try encodeNil(forKey: key)
        case .allLinear: try encode("all-linear", forKey: key)
        case .pattern(let pattern): try encode(pattern, forKey: key)
        case .suffixes(let names): try encode(names, forKey: key)
        }
    }
}

extension TargetModules {
    /// Checks `layers_to_transform` and `layers_pattern` against these targets as PEFT does: a pattern
    /// needs layer indices, and indices cannot narrow a regular expression.
    func validateLayerSelection(layersToTransform: [Int]?, layersPattern: [String]?) throws {
        if layersPattern != nil && layersToTransform == nil {
            throw AdapterError.invalidConfiguration(
                key: "layers_pattern", reason: "needs layers_to_transform")
        }
        if case .pattern = self, layersToTransform != nil {
            throw AdapterError.invalidConfiguration(
                key: "layers_to_transform",
                reason: "cannot be combined with a regular-expression target_modules")
        }
    }
}
