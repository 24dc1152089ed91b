extension PreparedModel {
    /// What runs forward for a decoder-only base: the adapter's model when the method has one
    /// (it may add virtual tokens or prefixes), the base itself otherwise; nil for another base.
    public var causalLanguageModel: (any CausalLanguageModel)? { causal }

    /// What runs forward for an encoder-decoder base: the adapter's model when the method has
    /// one, the base itself otherwise; nil for another base.
    public var seq2SeqLanguageModel: (any Seq2SeqLanguageModel)? { seq2Seq }
}
