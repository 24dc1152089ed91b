import PEFTNN
import PEFTTensor

extension LlamaForCausalLM: CausalLanguageModel {
    /// Logits `[B, T, V]` for the inputs.
    public func logits(_ inputs: DecoderInputs) -> Tensor { self(inputs) }

    /// Token embeddings `[B, T, C]`.
    public func embed(_ tokenIDs: [[Int]]) -> Tensor {
        model.tokenEmbedding(
            tokenIDs.flatMap { $0 }, shape: [tokenIDs.count, tokenIDs.first?.count ?? 0])
    }

    /// One cache layer per block.
    public func makeCache() -> KeyValueCache { KeyValueCache(layerCount: configuration.layerCount) }

    /// `max_position_embeddings`.
    public var maximumLength: Int { configuration.maximumPositions }

    /// The first `eos_token_id`; ``endOfSequenceTokenIDs`` lists them all.
    public var endOfSequenceTokenID: Int? { configuration.eosTokenID }

    /// Every `eos_token_id` (Llama 3 instruct models list several); generation stops at any of them.
    public var endOfSequenceTokenIDs: Set<Int> { Set(configuration.eosTokenIDs) }
}
