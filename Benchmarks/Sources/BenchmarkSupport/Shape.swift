// The model shapes the training and decoding benchmarks run, as both sides of a comparison build them.
import PEFT

/// A model shape from issue 6: its architecture, batch and sequence lengths.
public enum Shape: String, CaseIterable, Sendable {
    case gpt2Tiny = "gpt2-tiny"
    case gpt2Small = "gpt2-small"
    case t5Small = "t5-small"
    /// SmolLM2-135M's shape (issue 12): a Llama-family decoder with grouped-query attention.
    case llamaSmall = "llama-small"

    public var batchSize: Int {
        switch self {
        case .gpt2Tiny: 8
        case .gpt2Small: 4
        case .t5Small: 8
        case .llamaSmall: 4
        }
    }

    /// Tokens per sequence (for T5, the encoder and the decoder length alike).
    public var sequenceLength: Int {
        switch self {
        case .gpt2Tiny, .gpt2Small, .llamaSmall: 128
        case .t5Small: 64
        }
    }

    public var gpt2Configuration: GPT2Configuration {
        GPT2Configuration {
            if self == .gpt2Tiny {
                $0.vocabularySize = 8192
                $0.embeddingSize = 256
                $0.layerCount = 4
                $0.headCount = 4
            } else {
                $0.vocabularySize = 50257
                $0.embeddingSize = 768
                $0.layerCount = 12
                $0.headCount = 12
            }
            $0.residualDropout = 0
            $0.embeddingDropout = 0
            $0.attentionDropout = 0
        }
    }

    public var t5Configuration: T5Configuration {
        T5Configuration {
            $0.vocabularySize = 32128
            $0.modelSize = 512
            $0.headSize = 64
            $0.feedForwardSize = 2048
            $0.encoderLayerCount = 6
            $0.decoderLayerCount = 6
            $0.headCount = 8
            $0.dropoutRate = 0
        }
    }

    /// SmolLM2-135M's `config.json` values that shape the computation; weights are random.
    public var llamaConfiguration: LlamaConfiguration {
        LlamaConfiguration {
            $0.vocabularySize = 49152
            $0.hiddenSize = 576
            $0.intermediateSize = 1536
            $0.layerCount = 30
            $0.headCount = 9
            $0.keyValueHeads = 3
            $0.maximumPositions = 8192
            $0.rmsNormEpsilon = 1e-5
            $0.rope = RotaryEmbeddingParameters(theta: 100000)
            $0.tieWordEmbeddings = true
            $0.attentionDropout = 0
        }
    }

    /// The modules LoRA wraps: PEFT's defaults for the family.
    public var loraTargets: [String] {
        switch self {
        case .gpt2Tiny, .gpt2Small: ["c_attn"]
        case .t5Small: ["q", "v"]
        case .llamaSmall: ["q_proj", "v_proj"]
        }
    }

    /// Tokens processed per step; for T5, encoder plus decoder tokens.
    public var tokensPerStep: Int {
        switch self {
        case .gpt2Tiny, .gpt2Small, .llamaSmall: batchSize * sequenceLength
        case .t5Small: 2 * batchSize * sequenceLength
        }
    }
}
