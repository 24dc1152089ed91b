import PEFTNN
import PEFTTensor

/// Whether a model generates from its own past tokens alone or decodes from an encoded input.
public enum ModelArchitecture: Sendable, Equatable {
    /// A decoder-only language model (GPT-2, Llama).
    case causal
    /// An encoder-decoder model (T5).
    case encoderDecoder
}

/// The sizes of a model's attention that methods which add keys, values or virtual tokens must match.
public struct AttentionLayout: Equatable, Sendable {
    /// The width of the hidden states and token embeddings (`hidden_size`, `d_model`, `n_embd`).
    public var width: Int
    /// The attention layers that take key/value prefixes: the decoder's layers.
    public var prefixLayers: Int
    /// The query heads per attention layer.
    public var heads: Int
    /// The key/value heads per attention layer: `heads`, or fewer with grouped-query attention.
    public var keyValueHeads: Int
    /// The width of one head.
    public var headDimension: Int

    /// A layout; `keyValueHeads` defaults to `heads` and `headDimension` to `width / heads`.
    public init(
        width: Int, prefixLayers: Int, heads: Int, keyValueHeads: Int? = nil,
        headDimension: Int? = nil
    ) {
        self.width = width
        self.prefixLayers = prefixLayers
        self.heads = heads
        self.keyValueHeads = keyValueHeads ?? heads
        self.headDimension = headDimension ?? width / heads
    }

    /// The width of one layer's keys (or values): key/value heads times the head width.
    public var keyValueWidth: Int { keyValueHeads * headDimension }
}

/// Where a transformer block's parts sit, by the module names of one family, for methods that add
/// layers inside each block (bottleneck adapters).
public struct TransformerBlockLayout: Equatable, Sendable {
    /// The attention output projections (GPT-2: `attn.c_proj`).
    public var attentionOutput: [String]
    /// The feed-forward output projections (GPT-2: `mlp.c_proj`).
    public var feedForwardOutput: [String]
    /// The whole feed-forward blocks (GPT-2: `mlp`).
    public var feedForward: [String]

    /// A layout from the three lists of module names.
    public init(attentionOutput: [String], feedForwardOutput: [String], feedForward: [String]) {
        self.attentionOutput = attentionOutput
        self.feedForwardOutput = feedForwardOutput
        self.feedForward = feedForward
    }
}

/// A model family's self-description: everything a PEFT method needs to know about a model that is not
/// in its module tree.
///
/// The `PEFT` module names no concrete model type; it asks this protocol instead. A model family from
/// outside the library (or a user's own model) conforms to plug into every method: default targets per
/// method as Hugging Face PEFT's mapping tables give them, the output head, the architecture, and how
/// its attention takes prefixes.
public protocol AdaptableModel: Module {
    /// The `model_type` of `config.json` (`gpt2`, `t5`).
    var modelType: String { get }
    /// Decoder-only or encoder-decoder.
    var architecture: ModelArchitecture { get }
    /// The modules a method with this `peft_type` targets when the configuration names none
    /// (Hugging Face PEFT's `TRANSFORMERS_MODELS_TO_<TYPE>_TARGET_MODULES_MAPPING`), or `nil` when the
    /// family has no default for it.
    func defaultTargetModules(for peftType: String) -> [String]?
    /// IA3's default feed-forward modules, whose inputs it scales instead of their outputs.
    func defaultFeedForwardModules(for peftType: String) -> [String]?
    /// Where each block's attention and feed-forward parts are.
    var blockLayout: TransformerBlockLayout { get }
    /// The module paths of the output head, which `all-linear` never targets (`lm_head`); empty when the
    /// head is tied to the input embeddings and is no module of its own.
    var outputHeadPaths: [String] { get }
    /// The attention sizes prompt-learning methods match.
    var attentionLayout: AttentionLayout { get }
    /// The word-embedding table `[V, C]`, for initialising virtual tokens from words.
    var wordEmbeddingTable: Tensor { get }
    /// Splits a prefix-tuning table `[P, L·2·K]` (K: ``AttentionLayout/keyValueWidth``) into one key and
    /// value prefix per layer, in the layout Hugging Face PEFT uses for this architecture.
    func attentionPrefixes(fromPrefixTable table: Tensor) -> [AttentionPrefix]
}

/// An ``AdaptableModel`` whose default targets are one row of Hugging Face PEFT's tables.
public protocol AdaptableModelWithTargetTable: AdaptableModel {
    /// The family's row of PEFT's default-target tables.
    static var defaultTargets: DefaultTargetModules { get }
}

extension AdaptableModelWithTargetTable {
    /// The table's targets for `peftType`.
    public func defaultTargetModules(for peftType: String) -> [String]? {
        Self.defaultTargets.targets(for: peftType)
    }

    /// The table's feed-forward modules for `peftType`.
    public func defaultFeedForwardModules(for peftType: String) -> [String]? {
        Self.defaultTargets.feedForwardModules(for: peftType)
    }
}

extension AdaptableModel {
    /// PEFT's plain layout: layer `l` takes block `2l` as keys and block `2l + 1` as values.
    public func attentionPrefixes(fromPrefixTable table: Tensor) -> [AttentionPrefix] {
        let layers = attentionLayout.prefixLayers
        return AttentionPrefix.split(table, width: attentionLayout.keyValueWidth, layers: layers) {
            (2 * $0, 2 * $0 + 1)
        }
    }
}

extension AttentionPrefix {
    /// Cuts `table` `[P, blocks·width]` into per-layer prefixes `[1, P, width]`; `blocks(l)` names the key
    /// and value block of layer `l`.
    public static func split(
        _ table: Tensor, width: Int, layers: Int, blocks: (Int) -> (key: Int, value: Int)
    ) -> [AttentionPrefix] {
        let count = table.shape[0]
        func block(_ index: Int) -> Tensor {
            table.narrowed(alongAxis: 1, start: index * width, length: width).reshaped(to: [
                1, count, width,
            ])
        }
        return (0..<layers).map { layer in
            let (key, value) = blocks(layer)
            return AttentionPrefix(key: block(key), value: block(value))
        }
    }
}
