import PEFTTensor

/// Which tensor a DARE keep-mask is for, so a source can replay masks recorded elsewhere.
public struct PruningMaskRequest: Hashable, Sendable {
    /// The kind of tensor being pruned.
    public enum Target: String, Hashable, Sendable {
        /// An adapter's `lora_A`, `[r, in]`.
        case down = "lora_A"
        /// An adapter's `lora_B`, `[out, r]`.
        case up = "lora_B"
        /// An adapter's update `s·B·A`, `[out, in]` (the SVD combination types).
        case delta
    }

    /// The path of the adapted layer (`transformer.h.0.attn.c_attn`).
    public let layer: String
    /// The adapter whose tensor is pruned.
    public let adapter: String
    /// The kind of tensor.
    public let target: Target
    /// Its shape, which the mask must have.
    public let shape: [Int]
    /// The probability of keeping an entry.
    public let density: Double

    /// A request for the mask of `adapter`'s `target` tensor in the layer at `layer`.
    public init(layer: String, adapter: String, target: Target, shape: [Int], density: Double) {
        self.layer = layer
        self.adapter = adapter
        self.target = target
        self.shape = shape
        self.density = density
    }
}

/// Supplies the random keep-masks of DARE (`dare_linear`, `dare_ties` and their SVD forms): for each
/// request a tensor of 0s and 1s, 1 with probability `density`, of the request's shape.
///
/// PEFT draws these from torch's global generator; ``SeededPruningMasks`` is this library's
/// reproducible default, and a source that replays masks recorded from PEFT reproduces its numbers.
public protocol PruningMaskSource: AnyObject {
    /// The keep-mask for `request`.
    ///
    /// - Throws: When the source has no mask for the request.
    func mask(for request: PruningMaskRequest) throws -> Tensor
}

/// Independent Bernoulli(`density`) keep-masks from a seeded ``RandomGenerator``, in request order.
public final class SeededPruningMasks: PruningMaskSource {
    private var generator: RandomGenerator

    /// Masks that depend only on `seed` and the order of the requests.
    public init(seed: UInt64 = 0) { generator = RandomGenerator(seed: seed) }

    /// A fresh mask: each entry is 1 when a uniform draw falls below the density.
    public func mask(for request: PruningMaskRequest) -> Tensor {
        let count = request.shape.reduce(1, *)
        let density = Float(request.density)
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { values in
            for index in values.indices where generator.nextUniform() < density {
                values[index] = 1
            }
        }
        return Tensor(shape: request.shape, scalars: values)
    }
}
