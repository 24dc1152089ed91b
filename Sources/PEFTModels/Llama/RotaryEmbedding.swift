import Foundation
import PEFTTensor

/// The inverse frequencies of rotary position embeddings, and their cosine and sine tables.
///
/// Computed in Float32 as `transformers` computes them, so angles agree to the last bits:
/// `inv_freq[j] = 1 / θ^(2j/D)`, then the rope type's rescaling, then `angle = position · inv_freq`.
public struct RotaryEmbedding: Sendable {
    /// `D/2` inverse frequencies, one per coordinate pair of a head.
    public let inverseFrequencies: [Float]
    /// The factor on both tables (1 for the default, linear and llama3 types).
    public let attentionScaling: Float

    /// Frequencies for heads of `headDimension` under `parameters`; `maximumPositions` is the fallback
    /// for llama3's `original_max_position_embeddings`.
    public init(parameters: RotaryEmbeddingParameters, headDimension: Int, maximumPositions: Int) {
        let theta = Float(parameters.theta)
        var frequencies = (0..<headDimension / 2).map {
            1 / powf(theta, Float(2 * $0) / Float(headDimension))
        }
        let factor = Float(parameters.factor ?? 1)
        switch parameters.type {
        case "linear":
            frequencies = frequencies.map { $0 / factor }
        case "llama3":
            frequencies = frequencies.map {
                Self.llama3Frequency(
                    $0, factor: factor, low: Float(parameters.lowFrequencyFactor ?? 1),
                    high: Float(parameters.highFrequencyFactor ?? 4),
                    originalLength: Float(parameters.originalMaximumPositions ?? maximumPositions))
            }
        default:
            break
        }
        inverseFrequencies = frequencies
        attentionScaling = 1
    }

    /// Llama 3.1's rescaling: long wavelengths slow down by `factor`, short ones stay, and those between
    /// blend smoothly.
    static func llama3Frequency(
        _ frequency: Float, factor: Float, low: Float, high: Float, originalLength: Float
    ) -> Float {
        let wavelength = 2 * Float.pi / frequency
        if wavelength < originalLength / high { return frequency }
        if wavelength > originalLength / low { return frequency / factor }
        let smooth = (originalLength / wavelength - low) / (high - low)
        return (1 - smooth) * frequency / factor + smooth * frequency
    }

    /// The `[1, T, D/2]` cosine and sine tables for `positions`, shared by every row of a batch.
    public func tables(positions: Range<Int>) -> (cos: Tensor, sin: Tensor) {
        tables(flatPositions: Array(positions), shape: [1, positions.count])
    }

    /// The `[B, T, D/2]` tables for positions given per row (packed rows restart at each example).
    public func tables(positionRows: [[Int]]) -> (cos: Tensor, sin: Tensor) {
        tables(
            flatPositions: positionRows.flatMap { $0 },
            shape: [positionRows.count, positionRows.first?.count ?? 0])
    }

    private func tables(flatPositions: [Int], shape: [Int]) -> (cos: Tensor, sin: Tensor) {
        let half = inverseFrequencies.count
        var cosines = [Float](repeating: 0, count: flatPositions.count * half)
        var sines = cosines
        for (row, position) in flatPositions.enumerated() {
            for (j, frequency) in inverseFrequencies.enumerated() {
                let angle = Float(position) * frequency
                cosines[row * half + j] = cosf(angle) * attentionScaling
                sines[row * half + j] = sinf(angle) * attentionScaling
            }
        }
        let tableShape = shape + [half]
        return (
            Tensor(shape: tableShape, scalars: cosines), Tensor(shape: tableShape, scalars: sines)
        )
    }
}
