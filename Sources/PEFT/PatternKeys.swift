/// PEFT's `get_pattern_key` for `rank_pattern` and `alpha_pattern`: the value of the first key `k`
/// for which the whole module path matches `(.*\.)?(k)`. PEFT tries the keys in the file's order,
/// which `save_pretrained` writes sorted; they are tried sorted here, so the result never depends
/// on a dictionary's order.
func patternValue<Value>(_ pattern: [String: Value], for path: String) -> Value? {
    for key in pattern.keys.sorted() {
        if path == key || path.hasSuffix(".\(key)") { return pattern[key] }
        if let regex = try? Regex("(.*\\.)?(\(key))"), (try? regex.wholeMatch(in: path)) != nil {
            return pattern[key]
        }
    }
    return nil
}
