import PEFTNN
import PEFTTensor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How to pick tokens and when to stop.
public struct GenerationOptions: Sendable {
    /// The most tokens to generate.
    public var maximumNewTokens: Int = 32
    /// End-of-sequence is suppressed until this many tokens exist, as `min_new_tokens` does.
    public var minimumNewTokens: Int = 0
    /// 0 picks the most likely token (greedy); above 0 samples from `softmax(logits / temperature)`.
    public var temperature: Float = 0
    /// Sample only among the `topK` most likely tokens (0 = all).
    public var topK: Int = 0
    /// Sample only among the smallest set of tokens whose probability reaches `topP` (1 = all).
    public var topP: Float = 1
    /// Seeds the sampler.
    public var seed: UInt64 = 0
    /// Stop after any of these; `nil` uses the model's end-of-sequence token.
    public var stopTokenIDs: Set<Int>? = nil
    /// Reuse past keys and values (incremental decoding) instead of recomputing the whole sequence.
    public var usesCache: Bool = true

    /// Options for greedy decoding of up to `maximumNewTokens` tokens.
    public init(maximumNewTokens: Int = 32) {
        self.maximumNewTokens = maximumNewTokens
    }
}

/// Picks the next token from a row of logits under `options`.
struct TokenSampler {
    var options: GenerationOptions
    var generator: RandomGenerator
    let stopTokens: Set<Int>

    init(options: GenerationOptions, endOfSequence: Set<Int>) {
        self.options = options
        generator = RandomGenerator(seed: options.seed)
        stopTokens = options.stopTokenIDs ?? endOfSequence
    }

    mutating func next(logits row: [Float], generatedCount: Int) -> Int {
        var scores = row
        if generatedCount < options.minimumNewTokens {
            for token in stopTokens where scores.indices.contains(token) {
                scores[token] = -.infinity
            }
        }
        guard options.temperature > 0 else {
            return scores.indices.max {
                scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1)
            }!
        }
        var candidates = scores.indices.sorted { scores[$0] > scores[$1] }
        if options.topK > 0 { candidates = Array(candidates.prefix(options.topK)) }
        let top = scores[candidates[0]]
        var weights = candidates.map { Double(expf((scores[$0] - top) / options.temperature)) }
        let total = weights.reduce(0, +)
        if options.topP < 1 {
            var cumulative = 0.0
            var keep = 0
            while keep < weights.count && cumulative < Double(options.topP) * total {
                cumulative += weights[keep]
                keep += 1
            }
            candidates = Array(candidates.prefix(max(keep, 1)))
            weights = Array(weights.prefix(max(keep, 1)))
        }
        var threshold = Double(generator.nextUniform()) * weights.reduce(0, +)
        for (candidate, weight) in zip(candidates, weights) {
            threshold -= weight
            if threshold < 0 { return candidate }
        }
        return candidates[candidates.count - 1]
    }

    func isStop(_ token: Int) -> Bool { stopTokens.contains(token) }
}

/// The last position's logits of `[1, T, V]` as an array.
func lastRow(_ logits: Tensor) -> [Float] {
    let (length, vocabulary) = (logits.shape[1], logits.shape[2])
    return Array(logits.storage.buffer[(length - 1) * vocabulary..<length * vocabulary])
}

extension CausalLanguageModel {
    /// Continues `prompt` and returns the new tokens (the stop token included when one is produced).
    ///
    /// `promptEmbeddings` (`[1, T', C]`) replaces the prompt's own embeddings at the first step, which
    /// is how prompt tuning puts its virtual tokens in front; `prefixes` reach every attention layer at
    /// every step. With the cache the prompt is encoded once and each step runs one position.
    ///
    /// Throws ``GenerationError`` for an empty prompt or one (with the prefixes) longer than
    /// ``CausalLanguageModel/maximumLength``; generation then stops when the positions run out.
    public func generate(
        prompt: [Int], options: GenerationOptions = GenerationOptions(),
        promptEmbeddings: Tensor? = nil,
        prefixes: [AttentionPrefix]? = nil
    ) throws -> [Int] {
        let promptLength = promptEmbeddings?.shape[1] ?? prompt.count
        guard promptLength > 0 else { throw GenerationError.emptyPrompt(index: 0) }
        let needed = (prefixes?.first?.length ?? 0) + promptLength
        guard needed <= maximumLength else {
            throw GenerationError.promptTooLong(length: needed, limit: maximumLength)
        }
        return withoutGradients {
            var sampler = TokenSampler(options: options, endOfSequence: endOfSequenceTokenIDs)
            let cache = options.usesCache ? makeCache() : nil
            let prefixLength = prefixes?.first?.length ?? 0
            var generated: [Int] = []
            var embeddings = promptEmbeddings ?? embed([prompt])
            var logitsRow = lastRow(
                logits(DecoderInputs(embeddings: embeddings, prefixes: prefixes, cache: cache)))
            while generated.count < options.maximumNewTokens {
                let token = sampler.next(logits: logitsRow, generatedCount: generated.count)
                generated.append(token)
                if sampler.isStop(token) || prefixLength + embeddings.shape[1] + 1 > maximumLength {
                    break
                }
                if generated.count == options.maximumNewTokens { break }
                let next = embed([[token]])
                if let cache {
                    logitsRow = lastRow(
                        logits(DecoderInputs(embeddings: next, prefixes: prefixes, cache: cache)))
                    embeddings = concatenate([embeddings, next], alongAxis: 1)
                } else {
                    embeddings = concatenate([embeddings, next], alongAxis: 1)
                    logitsRow = lastRow(
                        logits(DecoderInputs(embeddings: embeddings, prefixes: prefixes)))
                }
            }
            return generated
        }
    }
}

extension Seq2SeqLanguageModel {
    /// Decodes a target for `input` and returns the new tokens (the stop token included when produced).
    ///
    /// The encoder runs once; `inputEmbeddings` (`[1, T', C]`) replaces the input's embeddings, which is
    /// how prompt tuning reaches T5, and `prefixes` reach the decoder's self-attention.
    public func generate(
        input: DecoderInputs, options: GenerationOptions = GenerationOptions(),
        prefixes: [AttentionPrefix]? = nil
    ) -> [Int] {
        withoutGradients {
            var sampler = TokenSampler(options: options, endOfSequence: endOfSequenceTokenIDs)
            let encoded = encode(input)
            let cache = options.usesCache ? makeCache() : nil
            var sequence = [decoderStartTokenID]
            var generated: [Int] = []
            while generated.count < options.maximumNewTokens {
                let step = cache == nil ? sequence : [sequence[sequence.count - 1]]
                let logits = decode(
                    DecoderInputs(tokenIDs: [step], prefixes: prefixes, cache: cache),
                    encoderOutput: encoded,
                    encoderMask: input.attentionMask)
                let token = sampler.next(logits: lastRow(logits), generatedCount: generated.count)
                generated.append(token)
                sequence.append(token)
                if sampler.isStop(token) { break }
            }
            return generated
        }
    }
}
