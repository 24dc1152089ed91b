import PEFTNN
import PEFTTensor

/// VeRA's frozen random projections, shared by every layer of one adapter: `vera_A` (`[r, in]`) and
/// `vera_B` (`[out, r]`), sized by the largest input and output among the targeted layers.
///
/// A layer uses their top-left corner, `A[:, :in]` and `B[:out, :]`. The container keeps this module
/// beside the model (``AdapterAttachment/sharedModule``) and saves its two tensors under PEFT's keys
/// `base_model.vera_A` and `base_model.vera_B`, which carry no adapter name.
public final class VeRAProjections: Module {
    /// `vera_A`, `[r, largest in]`.
    public let down: Parameter
    /// `vera_B`, `[largest out, r]`.
    public let up: Parameter

    /// Kaiming-uniform projections (bound `√(6 / fan_in)`, fan_in the second dimension, as PEFT
    /// draws them), `vera_A` first, from a generator seeded with `key`.
    ///
    /// PEFT draws from PyTorch's generator, so the values differ from PEFT's for the same key; they
    /// are saved with the adapter, which is what makes it load anywhere.
    public init(rank: Int, inputs: Int, outputs: Int, key: Int) {
        var generator = RandomGenerator(seed: UInt64(bitPattern: Int64(key)) ^ 0x5645_5241)
        func kaiming(_ shape: [Int]) -> Tensor {
            let bound = (6 / Float(shape[1])).squareRoot()
            return Tensor.uniform(shape, in: -bound..<bound, using: &generator)
        }
        down = Parameter(kaiming([rank, inputs]), trainable: false)
        up = Parameter(kaiming([outputs, rank]), trainable: false)
        super.init()
    }

    /// The rank r.
    public var rank: Int { down.shape[0] }
    /// The largest input width the projections serve.
    public var inputs: Int { down.shape[1] }
    /// The largest output width the projections serve.
    public var outputs: Int { up.shape[0] }

    /// PEFT's file keys, which are also this module's parameter paths.
    public override func namedDirectParameters() -> [(key: String, parameter: Parameter)] {
        [("base_model.vera_A", down), ("base_model.vera_B", up)]
    }

    /// `A[:, :inputs]`, `[r, inputs]`.
    func down(inputs: Int) -> Tensor {
        let value = down.value
        return inputs == self.inputs
            ? value : value.narrowed(alongAxis: 1, start: 0, length: inputs)
    }

    /// `B[:outputs, :]`, `[outputs, r]`.
    func up(outputs: Int) -> Tensor {
        let value = up.value
        return outputs == self.outputs
            ? value : value.narrowed(alongAxis: 0, start: 0, length: outputs)
    }
}
