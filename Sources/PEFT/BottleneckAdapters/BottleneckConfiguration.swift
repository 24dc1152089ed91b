import Foundation

/// Where bottleneck adapters sit in each block.
public enum BottleneckPlacement: String, Codable, Sendable {
    /// After the attention output and after the feed-forward, before each residual add (Houlsby et al.).
    case houlsby
    /// After the feed-forward only (Pfeiffer et al.).
    case pfeiffer
    /// Beside the feed-forward, reading its input and adding to its output (He et al.).
    case parallel
}

/// Bottleneck adapters' settings. Hugging Face PEFT has no such method (its issue #244), so the
/// `peft_type` is this library's own, `BOTTLENECK`, and the keys follow AdapterHub's `BnConfig` names.
///
/// The folder layout is PEFT's: `adapter_config.json` and `adapter_model.safetensors`, whose keys are
/// `base_model.model.<module path>.adapter_down.weight` (`[b, d]`), `.adapter_down.bias`,
/// `.adapter_up.weight` (`[d, b]`), `.adapter_up.bias`, and with `ln_before`
/// `.adapter_norm.weight` and `.adapter_norm.bias`, where `<module path>` is the wrapped layer
/// (`transformer.h.0.mlp.c_proj` for a sequential adapter, `transformer.h.0.mlp` for a parallel one).
public struct BottleneckConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``BottleneckAdapters``.
    public typealias Method = BottleneckAdapters
    /// `BOTTLENECK`.
    public static let peftType = "BOTTLENECK"
    /// `placement`.
    public var placement: BottleneckPlacement = .pfeiffer
    /// `reduction_factor`: the bottleneck is the width divided by this, unless `bottleneck_size` is set.
    public var reductionFactor = 16
    /// `bottleneck_size`: an explicit bottleneck width.
    public var bottleneckSize: Int? = nil
    /// `non_linearity`: `relu`, `gelu` or `silu`.
    public var nonLinearity: Activation = .relu
    /// `ln_before`: a layer norm on the adapter's input.
    public var layerNorm = false
    /// `scaling`: the factor on the adapter's output (4 is AdapterHub's default for parallel adapters).
    public var scaling: Float = 1
    /// `task_type`.
    public var taskType: String? = nil
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? = nil

    /// A configuration with the given placement, changed by `configure`.
    public init(
        placement: BottleneckPlacement = .pfeiffer,
        _ configure: (inout BottleneckConfiguration) -> Void = { _ in }
    ) {
        self.placement = placement
        configure(&self)
    }

    /// The bottleneck width for a layer of width `width`.
    public func bottleneck(for width: Int) -> Int {
        bottleneckSize ?? max(1, width / max(reductionFactor, 1))
    }

    /// Reads the JSON this library writes.
    public init(from decoder: any Decoder) throws {
        try decodeSharedFields(from: decoder)
        let container = try decoder.container(keyedBy: JSONKey.self)
        placement =
            try container.decodeIfPresent(BottleneckPlacement.self, forKey: JSONKey("placement"))
            ?? .pfeiffer
        reductionFactor =
            try container.decodeIfPresent(Int.self, forKey: JSONKey("reduction_factor")) ?? 16
        bottleneckSize = try container.decodeIfPresent(Int.self, forKey: JSONKey("bottleneck_size"))
        let name =
            try container.decodeIfPresent(String.self, forKey: JSONKey("non_linearity")) ?? "relu"
        guard let activation = Activation(huggingFaceName: name) else {
            throw AdapterError.invalidConfiguration(
                key: "non_linearity", reason: "unsupported '\(name)'")
        }
        nonLinearity = activation
        layerNorm = try container.decodeIfPresent(Bool.self, forKey: JSONKey("ln_before")) ?? false
        scaling = try container.decodeIfPresent(Float.self, forKey: JSONKey("scaling")) ?? 1
        guard reductionFactor > 0, (bottleneckSize ?? 1) > 0 else {
            throw AdapterError.invalidConfiguration(
                key: "reduction_factor", reason: "sizes must be positive")
        }
    }

    /// Writes the configuration.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(placement, forKey: JSONKey("placement"))
        try container.encode(reductionFactor, forKey: JSONKey("reduction_factor"))
        try container.encode(bottleneckSize, forKey: JSONKey("bottleneck_size"))
        try container.encode(nonLinearity.rawValue, forKey: JSONKey("non_linearity"))
        try container.encode(layerNorm, forKey: JSONKey("ln_before"))
        try container.encode(scaling, forKey: JSONKey("scaling"))
    }
}
