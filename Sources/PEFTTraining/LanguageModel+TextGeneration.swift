// Greedy text-in, text-out generation for the exact-match evaluation and the examples' samples.

extension CausalLanguageModel {
    /// The greedy continuation of `prompt` as text, without the end-of-sequence token.
    ///
    /// Throws ``GenerationError`` for a prompt that encodes to no tokens or to more than the model's
    /// positions.
    ///
    /// ```swift
    /// let completion = try model.complete("flip: abc =>", tokenizer: ByteTokenizer())
    /// ```
    public func complete(
        _ prompt: String, tokenizer: any Tokenizer, maximumNewTokens: Int = 32
    ) throws -> String {
        var options = GenerationOptions(maximumNewTokens: maximumNewTokens)
        options.stopTokenIDs = tokenizer.eosTokenID.map { [$0] }
        let tokens = try generate(prompt: tokenizer.encode(prompt), options: options)
        return tokenizer.decode(tokens.filter { $0 != tokenizer.eosTokenID })
    }
}

extension Seq2SeqLanguageModel {
    /// The greedy target for `input` as text, without the end-of-sequence token.
    ///
    /// The input is encoded as ``Seq2SeqBatch`` encodes it for training: ending with end-of-sequence.
    public func complete(
        _ input: String, tokenizer: any Tokenizer, maximumNewTokens: Int = 32
    ) -> String {
        var ids = tokenizer.encode(input)
        if let end = tokenizer.eosTokenID, ids.last != end { ids.append(end) }
        var options = GenerationOptions(maximumNewTokens: maximumNewTokens)
        options.stopTokenIDs = tokenizer.eosTokenID.map { [$0] }
        let tokens = generate(input: DecoderInputs(tokenIDs: [ids]), options: options)
        return tokenizer.decode(tokens.filter { $0 != tokenizer.eosTokenID })
    }
}
