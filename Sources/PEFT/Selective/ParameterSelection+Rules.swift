import PEFTNN

/// Selections of whole parameters by rule: BitFit, a path pattern, layer indices.
extension ParameterSelection {
    /// BitFit: every parameter whose path ends in `.bias`, whole.
    ///
    /// - Throws: ``SelectiveTuningError/noBiases(model:)`` for a model without biases (T5, LLaMA),
    ///   whose message suggests LoRA, IA3 or a pattern instead.
    public static func biases(in model: Module) throws -> ParameterSelection {
        let paths = model.namedParameters().map(\.path).filter { $0.hasSuffix(".bias") }
        guard !paths.isEmpty else {
            throw SelectiveTuningError.noBiases(model: "\(type(of: model))")
        }
        return try wholeTensors(paths, in: model)
    }

    /// Every parameter whose full path matches the regular expression `pattern` entirely, whole.
    ///
    /// `matching(#"transformer\.h\.\d+\.ln_\d\.(weight|bias)"#, in: gpt2)` trains GPT-2's layer
    /// norms.
    ///
    /// - Throws: ``SelectiveTuningError/invalidPattern(_:)`` or
    ///   ``SelectiveTuningError/noParameterMatched(rule:examples:)``.
    public static func matching(_ pattern: String, in model: Module) throws -> ParameterSelection {
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch {
            throw SelectiveTuningError.invalidPattern(pattern)
        }
        let all = model.namedParameters().map(\.path)
        let paths = all.filter { (try? regex.wholeMatch(in: $0)) != nil }
        guard !paths.isEmpty else {
            throw SelectiveTuningError.noParameterMatched(
                rule: "Pattern '\(pattern)'", examples: Array(all.prefix(6)))
        }
        return try wholeTensors(paths, in: model)
    }

    /// Every parameter inside one of the layers `indices`, whole, with the layer of a path found as
    /// Hugging Face PEFT's `layers_to_transform` finds it.
    ///
    /// Without `layersPattern` a layer index is the first numeric segment with at least two
    /// segments before it (`transformer.h.3.mlp.c_fc.weight` is in layer 3); with it, the numeric
    /// segment right after one of its names (`["h"]`, `["block"]`).
    ///
    /// - Throws: ``SelectiveTuningError/noParameterMatched(rule:examples:)`` when no parameter is
    ///   in those layers.
    public static func layers(
        _ indices: [Int], in model: Module, layersPattern: [String]? = nil
    ) throws -> ParameterSelection {
        let wanted = Set(indices)
        let all = model.namedParameters().map(\.path)
        let paths = all.filter { path in
            layerIndex(in: path, layersPattern: layersPattern).map(wanted.contains) ?? false
        }
        guard !paths.isEmpty else {
            throw SelectiveTuningError.noParameterMatched(
                rule: "Layers \(indices.sorted())", examples: Array(all.prefix(6)))
        }
        return try wholeTensors(paths, in: model)
    }

    /// The whole-tensor selection of `paths` in `model`.
    private static func wholeTensors(_ paths: [String], in model: Module) throws
        -> ParameterSelection
    {
        try ParameterSelection(
            model: model, entries: Dictionary(uniqueKeysWithValues: paths.map { ($0, .all) }),
            granularity: .tensor)
    }
}
