import PEFTTensor

/// Zeroes elements at random while training; the identity in evaluation mode.
///
/// Each layer draws from its own generator. A model seeds them all from one seed and their paths with
/// ``Module/reseedDropouts(seed:)``, so that no two layers draw the same masks.
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let probability: Float
    var generator: RandomGenerator

    /// Creates a dropout layer drawing its masks from a generator seeded with `seed`.
    public init(probability: Float, seed: UInt64 = 0) {
        precondition(
            probability >= 0 && probability < 1, "Dropout: probability \(probability) not in [0, 1)"
        )
        self.probability = probability
        self.generator = RandomGenerator(seed: seed)
        super.init()
    }

    /// Restarts the mask sequence from `seed`, so a resumed run draws the masks an uninterrupted one would.
    public func reseed(_ seed: UInt64) {
        generator = RandomGenerator(seed: seed)
    }

    /// Applies dropout when training.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        dropout(x, probability: probability, training: isTraining, using: &generator)
    }

    /// The next mask for a tensor of `shape` (0 or `1/(1 − p)` per element), for an op that applies
    /// dropout inside itself such as `attention(query:key:value:heads:scale:mask:bias:dropoutMask:)`;
    /// `nil` when the layer is inactive (evaluation mode, or probability 0).
    public func nextMask(shape: [Int]) -> Tensor? {
        guard isTraining, probability > 0 else { return nil }
        return dropoutMask(shape, probability: probability, using: &generator)
    }
}
