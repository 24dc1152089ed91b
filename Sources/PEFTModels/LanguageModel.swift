import PEFTNN
import PEFTTensor

/// A decoder-only language model that generation can drive: GPT-2, or a PEFT-wrapped one.
public protocol CausalLanguageModel: AnyObject {
    /// Logits `[B, T, V]` for the inputs.
    func logits(_ inputs: DecoderInputs) -> Tensor
    /// Input embeddings `[B, T, C]` for token ids.
    func embed(_ tokenIDs: [[Int]]) -> Tensor
    /// An empty key/value cache with one layer per attention layer.
    func makeCache() -> KeyValueCache
    /// The longest sequence the model accepts, counting virtual tokens and prefixes.
    var maximumLength: Int { get }
    /// The end-of-sequence token id, if any.
    var endOfSequenceTokenID: Int? { get }
    /// Every token id that ends a generation (`eos_token_id` may list several).
    var endOfSequenceTokenIDs: Set<Int> { get }
    /// The next-token loss of ``causalLanguageModelingLoss(logits:labels:)`` for `inputs`; a model
    /// whose head allows it computes the loss without materialising the `[B, T, V]` logits.
    func languageModelingLoss(_ inputs: DecoderInputs, labels: [[Int]]) -> Tensor
}

extension CausalLanguageModel {
    /// The loss of the full logits.
    public func languageModelingLoss(_ inputs: DecoderInputs, labels: [[Int]]) -> Tensor {
        causalLanguageModelingLoss(logits: logits(inputs), labels: labels)
    }
}

/// An encoder-decoder language model that generation can drive: T5, or a PEFT-wrapped one.
public protocol Seq2SeqLanguageModel: AnyObject {
    /// The encoder output `[B, T_enc, C]`.
    func encode(_ inputs: DecoderInputs) -> Tensor
    /// Decoder logits `[B, T_dec, V]`.
    func decode(_ inputs: DecoderInputs, encoderOutput: Tensor, encoderMask: [[Int]]?) -> Tensor
    /// The encoder's input embeddings `[B, T, C]` for token ids.
    func embed(_ tokenIDs: [[Int]]) -> Tensor
    /// An empty cache: a self- and a cross-attention layer per decoder block.
    func makeCache() -> KeyValueCache
    /// The token the decoder starts from.
    var decoderStartTokenID: Int { get }
    /// The end-of-sequence token id, if any.
    var endOfSequenceTokenID: Int? { get }
    /// Every token id that ends a generation (`eos_token_id` may list several).
    var endOfSequenceTokenIDs: Set<Int> { get }
}

extension GPT2LMHeadModel: CausalLanguageModel {
    /// Logits `[B, T, V]` for the inputs.
    public func logits(_ inputs: DecoderInputs) -> Tensor { self(inputs) }

    /// Token embeddings `[B, T, C]`.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor {
        transformer.tokenEmbedding(
            tokenIDs.flatMap { $0 }, shape: [tokenIDs.count, tokenIDs.first?.count ?? 0])
    }

    /// One cache layer per block.
    public func makeCache() -> KeyValueCache { KeyValueCache(layerCount: configuration.layerCount) }

    /// `n_positions`.
    public var maximumLength: Int { configuration.maximumPositions }

    /// `eos_token_id`.
    public var endOfSequenceTokenID: Int? { configuration.eosTokenID }
}

extension T5ForConditionalGeneration: Seq2SeqLanguageModel {
    /// Rows of the shared embedding `[B, T, C]`.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor {
        sharedEmbedding(
            tokenIDs.flatMap { $0 }, shape: [tokenIDs.count, tokenIDs.first?.count ?? 0])
    }

    /// `decoder_start_token_id`.
    public var decoderStartTokenID: Int { configuration.decoderStartTokenID }

    /// `eos_token_id`.
    public var endOfSequenceTokenID: Int? { configuration.eosTokenID }
}

extension CausalLanguageModel {
    /// The one end-of-sequence token, for families whose `eos_token_id` is a single id.
    public var endOfSequenceTokenIDs: Set<Int> { Set([endOfSequenceTokenID].compactMap { $0 }) }
}

extension Seq2SeqLanguageModel {
    /// The one end-of-sequence token.
    public var endOfSequenceTokenIDs: Set<Int> { Set([endOfSequenceTokenID].compactMap { $0 }) }
}
