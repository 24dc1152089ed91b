// The methods the training benchmark runs, and the FLOPs one step of each costs.
import BenchmarkSupport
import PEFT

/// A fine-tuning method, as configured on both sides of the comparison.
enum Method: String, CaseIterable {
    /// LoRA r = 8, alpha = 16 on the family's default targets.
    case lora
    /// DoRA: the same LoRA with a trained magnitude vector (`use_dora`).
    case dora
    /// IA3 on the family's default targets.
    case ia3
    /// Prompt tuning, 20 virtual tokens, random initialisation.
    case prompt
    /// Prefix tuning, 20 virtual tokens per layer, no reparameterisation MLP.
    case prefix
    /// Houlsby bottleneck adapters, reduction factor 8 (no PyTorch peer: Hugging Face PEFT has none).
    case adapters
    /// Every weight trains.
    case full
    /// Nothing but the first layer norm(s) trains, so backward runs the base's whole input-gradient
    /// pass and no weight gradient: the yardstick for LoRA's own cost (Swift only).
    case frozen

    /// The virtual tokens prompt and prefix tuning add.
    static let virtualTokens = 20

    /// Whether the base's weight matrices get gradients.
    var trainsBase: Bool { self == .full }
}

/// Model FLOPs of one training step, counted from the shapes so both sides use the same figure.
///
/// A weight matrix of `P` entries applied to `n` tokens costs `2·P·n` forward. Backward costs the
/// same again for the input gradient and, if the weight trains, once more for the weight gradient;
/// so full fine-tuning costs `6·P·n` and a frozen weight `4·P·n` under every other method (LoRA's and
/// DoRA's factors and the bottleneck adapters train: `6·P·n` for their own entries). Attention scores
/// and the weighted sum of values cost `4·T_q·T_k·d` forward per sequence and layer (the full score
/// matrix, causal or not, as both libraries compute it) and `3×` that with backward. Prompt tuning
/// runs every (encoder) product on `T + 20` positions; prefix tuning gives each decoder
/// self-attention `T + 20` keys. Embedding look-ups, norms, biases, IA3's and DoRA's vectors,
/// softmax and the optimizer are not counted; `tokensPerStep` counts real tokens only.
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
        let baseFactor = method.trainsBase ? 6.0 : 4.0
        let virtual = Double(Method.virtualTokens)
        // Prompt tuning lengthens the (encoder's) input; prefix tuning lengthens self-attention's keys.
        let promptLength = method == .prompt ? length + virtual : length
        let prefixKeys = method == .prefix ? length + virtual : length
        /// A `[input, output]` weight applied to `tokens` tokens, with an optional LoRA adapter.
        func product(_ input: Int, _ output: Int, tokens: Double, adapted: Bool = false) -> Double {
            var flops = baseFactor * Double(input * output) * tokens
            if adapted && (method == .lora || method == .dora) {
                flops += 6 * rank * Double(input + output) * tokens
            }
            return flops
        }
        /// Two bottleneck adapters per block (Houlsby), each a down and an up projection.
        func adapters(width: Int, tokens: Double) -> Double {
            method == .adapters ? 2 * 2 * 6 * Double(width * (width / 8)) * tokens : 0
        }
        func attentionProducts(queries: Double, keys: Double, width: Int) -> Double {
            3 * 4 * batch * queries * keys * Double(width)
        }
        switch shape {
        case .gpt2Tiny, .gpt2Small:
            let c = shape.gpt2Configuration
            let (width, tokens) = (c.embeddingSize, batch * promptLength)
            for _ in 0..<c.layerCount {
                weights += product(width, 3 * width, tokens: tokens, adapted: true)
                weights += product(width, width, tokens: tokens)
                weights += product(width, c.feedForwardSize, tokens: tokens)
                weights += product(c.feedForwardSize, width, tokens: tokens)
                weights += adapters(width: width, tokens: tokens)
                attention += attentionProducts(
                    queries: promptLength, keys: max(promptLength, prefixKeys), width: width)
            }
            weights += product(width, c.vocabularySize, tokens: tokens)
        case .t5Small:
            let c = shape.t5Configuration
            let (width, inner) = (c.modelSize, c.headCount * c.headSize)
            let (encoderTokens, decoderTokens) = (batch * promptLength, batch * length)
            func attentionBlock(queryTokens: Double, keyTokens: Double) -> Double {
                product(width, inner, tokens: queryTokens, adapted: true)  // q
                    + product(width, inner, tokens: keyTokens)  // k
                    + product(width, inner, tokens: keyTokens, adapted: true)  // v
                    + product(inner, width, tokens: queryTokens)  // o
            }
            func feedForward(tokens: Double) -> Double {
                product(width, c.feedForwardSize, tokens: tokens)
                    + product(c.feedForwardSize, width, tokens: tokens)
            }
            for _ in 0..<c.encoderLayerCount {
                weights += attentionBlock(queryTokens: encoderTokens, keyTokens: encoderTokens)
                weights +=
                    feedForward(tokens: encoderTokens)
                    + adapters(width: width, tokens: encoderTokens)
                attention += attentionProducts(
                    queries: promptLength, keys: promptLength, width: inner)
            }
            for _ in 0..<c.decoderLayers {
                weights += attentionBlock(queryTokens: decoderTokens, keyTokens: decoderTokens)
                weights += attentionBlock(queryTokens: decoderTokens, keyTokens: encoderTokens)
                weights +=
                    feedForward(tokens: decoderTokens)
                    + adapters(width: width, tokens: decoderTokens)
                // Self-attention (with the prefix, if any), then cross-attention over the encoder.
                attention += attentionProducts(queries: length, keys: prefixKeys, width: inner)
                attention += attentionProducts(queries: length, keys: promptLength, width: inner)
            }
            weights += product(width, c.vocabularySize, tokens: decoderTokens)
        case .llamaSmall:
            let c = shape.llamaConfiguration
            let (width, tokens) = (c.hiddenSize, batch * promptLength)
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
                weights += adapters(width: width, tokens: tokens)
                // Every query head attends: the shared key/value heads cost no fewer products.
                attention += attentionProducts(
                    queries: promptLength, keys: max(promptLength, prefixKeys), width: queryWidth)
            }
            weights += product(width, c.vocabularySize, tokens: tokens)  // tied lm_head
        }
    }
}
