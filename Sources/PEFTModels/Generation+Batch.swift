import PEFTNN
import PEFTTensor

/// The last position's logits of row `row` of `[B, T, V]`.
func lastRow(_ logits: Tensor, row: Int) -> [Float] {
    let (length, vocabulary) = (logits.shape[1], logits.shape[2])
    let start = (row * length + length - 1) * vocabulary
    return Array(logits.storage.buffer[start..<start + vocabulary])
}

extension CausalLanguageModel {
    /// Continues several prompts of equal length in one batch, and returns each one's new tokens
    /// (its stop token included when one is produced).
    ///
    /// Every row samples on its own with `options` (its own seeded sampler), so it gets the tokens
    /// ``generate(prompt:options:promptEmbeddings:prefixes:)`` gives it alone; a row that has stopped
    /// keeps its place in the batch until every row is done, and its later tokens are dropped.
    ///
    /// Throws ``GenerationError`` when there are no prompts, one is empty, their lengths differ, or
    /// they are longer than ``CausalLanguageModel/maximumLength``.
    public func generate(prompts: [[Int]], options: GenerationOptions = GenerationOptions())
        throws -> [[Int]]
    {
        guard let first = prompts.first else { throw GenerationError.noPrompts }
        for (index, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw GenerationError.emptyPrompt(index: index) }
            guard prompt.count == first.count else {
                throw GenerationError.unequalPromptLengths(
                    first: first.count, other: prompt.count, index: index)
            }
        }
        guard first.count <= maximumLength else {
            throw GenerationError.promptTooLong(length: first.count, limit: maximumLength)
        }
        guard options.maximumNewTokens > 0 else { return prompts.map { _ in [] } }
        return withoutGradients {
            let batch = prompts.count
            var samplers = prompts.map { _ in
                TokenSampler(options: options, endOfSequence: endOfSequenceTokenIDs)
            }
            let cache = options.usesCache ? makeCache() : nil
            var generated = [[Int]](repeating: [], count: batch)
            var finished = [Bool](repeating: false, count: batch)
            var sequences = prompts
            var logits = logits(DecoderInputs(tokenIDs: prompts, cache: cache))
            while true {
                var step: [[Int]] = []
                for row in 0..<batch {
                    guard !finished[row] else {
                        step.append([sequences[row].last!])
                        continue
                    }
                    let token = samplers[row].next(
                        logits: lastRow(logits, row: row), generatedCount: generated[row].count)
                    generated[row].append(token)
                    if samplers[row].isStop(token)
                        || generated[row].count == options.maximumNewTokens
                    {
                        finished[row] = true
                    }
                    step.append([token])
                }
                if finished.allSatisfy({ $0 }) || sequences[0].count + 1 > maximumLength {
                    break
                }
                for row in 0..<batch { sequences[row].append(step[row][0]) }
                logits =
                    cache == nil
                    ? self.logits(DecoderInputs(tokenIDs: sequences))
                    : self.logits(DecoderInputs(tokenIDs: step, cache: cache))
            }
            return generated
        }
    }
}
