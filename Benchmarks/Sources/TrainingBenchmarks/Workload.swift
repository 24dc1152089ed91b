// The shapes and methods the training benchmark runs, and the FLOPs one step of each costs.
import PEFT

/// A model shape from issue 6: its architecture, batch and sequence lengths.
enum Shape: String, CaseIterable {
    case gpt2Tiny = "gpt2-tiny"
    case gpt2Small = "gpt2-small"
    case t5Small = "t5-small"
    /// SmolLM2-135M's shape (issue 12): a Llama-family decoder with grouped-query attention.
    case llamaSmall = "llama-small"

    var batchSize: Int {
        switch self {
        case .gpt2Tiny: 8
        case .gpt2Small: 4
        case .t5Small: 8
        case .llamaSmall: 4
        }
    }

    /// Tokens per sequence (for T5, the encoder and the decoder length alike).
    var sequenceLength: Int {
        switch self {
        case .gpt2Tiny, .gpt2Small, .llamaSmall: 128
        case .t5Small: 64
        }
    }

    var gpt2Configuration: GPT2Configuration {
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

    var t5Configuration: T5Configuration {
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
    var llamaConfiguration: LlamaConfiguration {
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
    var loraTargets: [String] {
        switch self {
        case .gpt2Tiny, .gpt2Small: ["c_attn"]
        case .t5Small: ["q", "v"]
        case .llamaSmall: ["q_proj", "v_proj"]
        }
    }

    /// Tokens processed per step; for T5, encoder plus decoder tokens.
    var tokensPerStep: Int {
        switch self {
        case .gpt2Tiny, .gpt2Small, .llamaSmall: batchSize * sequenceLength
        case .t5Small: 2 * batchSize * sequenceLength
        }
    }
}

/// Full fine-tuning or LoRA r = 8, alpha = 16.
enum Method: String, CaseIterable {
    case lora
    case full
}

/// Model FLOPs of one training step, counted from the shapes so both sides use the same figure.
///
/// A weight matrix of `P` entries applied to `n` tokens costs `2·P·n` forward. Backward costs the
/// same again for the input gradient and, if the weight trains, once more for the weight gradient;
/// so full fine-tuning costs `6·P·n` and a frozen weight under LoRA `4·P·n` (the LoRA factors
/// themselves train: `6·P_lora·n`). Attention scores and the weighted sum of values cost
/// `4·T_q·T_k·d` forward per sequence and layer (the full score matrix, causal or not, as both
/// libraries compute it) and `3×` that with backward, whatever the method.
/// Embedding look-ups, norms, biases, softmax and the optimizer are not counted.
struct StepFLOPs {
    /// FLOPs of the weight products, forward and backward.
    var weights = 0.0
    /// FLOPs of the attention products, forward and backward.
    var attention = 0.0
    var total: Double { weights + attention }

    init(shape: Shape, method: Method, loraRank: Int = 8) {
        let batch = Double(shape.batchSize)
        let length = Double(shape.sequenceLength)
        let rank = Double(loraRank)
        let baseFactor = method == .full ? 6.0 : 4.0
        /// A `[input, output]` weight applied to `tokens` tokens, with an optional LoRA adapter.
        func product(_ input: Int, _ output: Int, tokens: Double, adapted: Bool = false) -> Double {
            var flops = baseFactor * Double(input * output) * tokens
            if adapted && method == .lora { flops += 6 * rank * Double(input + output) * tokens }
            return flops
        }
        func attentionProducts(queries: Double, keys: Double, width: Int) -> Double {
            3 * 4 * batch * queries * keys * Double(width)
        }
        switch shape {
        case .gpt2Tiny, .gpt2Small:
            let c = shape.gpt2Configuration
            let (width, tokens) = (c.embeddingSize, batch * length)
            for _ in 0..<c.layerCount {
                weights += product(width, 3 * width, tokens: tokens, adapted: true)
                weights += product(width, width, tokens: tokens)
                weights += product(width, c.feedForwardSize, tokens: tokens)
                weights += product(c.feedForwardSize, width, tokens: tokens)
                attention += attentionProducts(queries: length, keys: length, width: width)
            }
            weights += product(width, c.vocabularySize, tokens: tokens)
        case .t5Small:
            let c = shape.t5Configuration
            let (width, inner, tokens) = (c.modelSize, c.headCount * c.headSize, batch * length)
            func attentionBlock(queryTokens: Double, keyTokens: Double) -> Double {
                product(width, inner, tokens: queryTokens, adapted: true)  // q
                    + product(width, inner, tokens: keyTokens)  // k
                    + product(width, inner, tokens: keyTokens, adapted: true)  // v
                    + product(inner, width, tokens: queryTokens)  // o
            }
            let feedForward =
                product(width, c.feedForwardSize, tokens: tokens)
                + product(c.feedForwardSize, width, tokens: tokens)
            for _ in 0..<c.encoderLayerCount {
                weights += attentionBlock(queryTokens: tokens, keyTokens: tokens) + feedForward
                attention += attentionProducts(queries: length, keys: length, width: inner)
            }
            for _ in 0..<c.decoderLayers {
                weights += 2 * attentionBlock(queryTokens: tokens, keyTokens: tokens) + feedForward
                attention += 2 * attentionProducts(queries: length, keys: length, width: inner)
            }
            weights += product(width, c.vocabularySize, tokens: tokens)
        case .llamaSmall:
            let c = shape.llamaConfiguration
            let (width, tokens) = (c.hiddenSize, batch * length)
            let (queryWidth, keyValueWidth) = (
                c.headCount * c.headDimension, c.keyValueHeadCount * c.headDimension
            )
            for _ in 0..<c.layerCount {
                weights += product(width, queryWidth, tokens: tokens, adapted: true)  // q_proj
                weights += product(width, keyValueWidth, tokens: tokens)  // k_proj
                weights += product(width, keyValueWidth, tokens: tokens, adapted: true)  // v_proj
                weights += product(queryWidth, width, tokens: tokens)  // o_proj
                weights += 2 * product(width, c.intermediateSize, tokens: tokens)  // gate, up
                weights += product(c.intermediateSize, width, tokens: tokens)  // down_proj
                // Every query head attends: the shared key/value heads cost no fewer products.
                attention += attentionProducts(queries: length, keys: length, width: queryWidth)
            }
            weights += product(width, c.vocabularySize, tokens: tokens)  // tied lm_head
        }
    }
}
