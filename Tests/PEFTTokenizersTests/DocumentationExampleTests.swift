import Testing

@testable import PEFTTokenizers

@Suite("Documentation examples")
struct DocumentationExampleTests {
    @Test("The GPT2Tokenizer example does what its comments say")
    func gpt2Example() throws {
        let tokenizer = try GPT2Tokenizer(contentsOf: Fixtures.url("gpt2-bpe"))
        let ids = tokenizer.encode("Hello world<|endoftext|>")
        #expect(ids.last == tokenizer.eosTokenID)
        #expect(tokenizer.decode(ids) == "Hello world<|endoftext|>")
    }

    @Test("The T5Tokenizer example does what its comments say")
    func t5Example() throws {
        let tokenizer = try T5Tokenizer(contentsOf: Fixtures.url("t5-unigram"))
        let ids = tokenizer.encode("The <extra_id_0> walks")
        #expect(ids.last == tokenizer.eosTokenID)
        #expect(tokenizer.decode(ids) == "The<extra_id_0> walks</s>")
        #expect(tokenizer.decode(ids, skippingSpecialTokens: true) == "The walks")
    }

    @Test("The ByteTokenizer example does what its comments say")
    func byteExample() {
        let tokenizer = ByteTokenizer()
        #expect(tokenizer.encode("hé") == [104, 195, 169])
        #expect(tokenizer.decode(tokenizer.encode("hé")) == "hé")
    }
}
