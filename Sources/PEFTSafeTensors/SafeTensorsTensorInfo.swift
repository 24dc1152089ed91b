/// Where one tensor lives in a safetensors file and how to read it.
public struct SafeTensorsTensorInfo: Hashable, Sendable {
    /// The tensor's key in the header, such as `"model.layers.0.self_attn.q_proj.weight"`.
    public var name: String
    /// The element type.
    public var dtype: SafeTensorsDType
    /// The dimensions, outermost first; empty for a scalar.
    public var shape: [Int]
    /// The tensor's bytes, as offsets into the data buffer that follows the header.
    public var byteRange: Range<Int>

    /// Creates a description of one tensor.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// The number of elements: the product of the shape, 1 for a scalar.
    public var elementCount: Int {
        shape.reduce(1, *)
    }
}
