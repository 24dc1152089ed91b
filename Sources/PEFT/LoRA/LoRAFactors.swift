import PEFTNN
import PEFTTensor

/// One named LoRA adapter inside a layer: `A` (`[r, in]`), `B` (`[out, r]`), the scaling, the input
/// dropout, and for DoRA the magnitude vector.
public final class LoRAFactors: AdapterTensors {
    /// Whether the factors adapt a linear layer or an embedding table, which PEFT keys differently.
    public enum Target: Sendable {
        /// `lora_A.weight`, `lora_B.weight`, `lora_magnitude_vector`.
        case linear
        /// `lora_embedding_A`, `lora_embedding_B`.
        case embedding
    }

    /// What the factors adapt.
    public let target: Target
    /// `lora_A`: `[r, in]` (an embedding's: `[r, V]`).
    public internal(set) var down: Parameter
    /// `lora_B`: `[out, r]` (an embedding's: `[C, r]`).
    public internal(set) var up: Parameter
    /// `lora_magnitude_vector`, `[out]`, for DoRA.
    public let magnitude: Parameter?
    /// `alpha / r`, or `alpha / √r` for rsLoRA.
    public internal(set) var scaling: Float
    /// Dropout on the adapter's input, a child of the layer (`lora_dropout.<name>`) so that training
    /// mode and reseeding reach it.
    public let dropout: Dropout
    /// DoRA's row norms at merge time, needed to unmerge.
    var mergedNorms: Tensor?

    init(
        target: Target = .linear, down: Tensor, up: Tensor, magnitude: Tensor?, scaling: Float,
        dropout: Float, seed: UInt64
    ) {
        self.target = target
        self.down = Parameter(down)
        self.up = Parameter(up)
        self.magnitude = magnitude.map { Parameter($0) }
        self.scaling = scaling
        self.dropout = Dropout(probability: dropout, seed: seed)
    }

    /// The rank r.
    public var rank: Int { down.shape[0] }

    /// `s·B·A` as an `[out, in]` matrix.
    func delta() -> Tensor {
        withoutGradients { matmul(up.value, down.value) * scaling }
    }

    /// The tensors with PEFT's file keys.
    public var tensors: [(key: String, parameter: Parameter)] {
        switch target {
        case .embedding: return [("lora_embedding_A", down), ("lora_embedding_B", up)]
        case .linear:
            var result: [(key: String, parameter: Parameter)] = [
                ("lora_A.weight", down), ("lora_B.weight", up),
            ]
            if let magnitude { result.append(("lora_magnitude_vector", magnitude)) }
            return result
        }
    }

    /// PEFT keeps the magnitude in a module of its own (`lora_magnitude_vector.<name>.weight`) and
    /// saves it without `.weight`.
    public static func modelKey(forFileKey key: String, adapterName: String) -> String {
        if key == "lora_magnitude_vector" { return "\(key).\(adapterName).weight" }
        guard let dot = key.firstIndex(of: ".") else { return "\(key).\(adapterName)" }
        return "\(key[..<dot]).\(adapterName)\(key[dot...])"
    }
}
