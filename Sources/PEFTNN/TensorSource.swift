import PEFTSafeTensors

/// Named tensors that can be read into Float32 buffers: a safetensors file or a sharded checkpoint.
public protocol TensorSource {
    /// Every tensor name.
    var tensorNames: [String] { get }
    /// The shape of the named tensor.
    func shape(of name: String) throws -> [Int]
    /// Converts the named tensor to Float32 into `buffer`, whose count must match.
    func copyFloats(_ name: String, into buffer: UnsafeMutableBufferPointer<Float>) throws
}

extension SafeTensorsFile: TensorSource {
    /// The shape of the named tensor.
    public func shape(of name: String) throws -> [Int] {
        guard let info = info(name) else {
            throw SafeTensorsError.tensorNotFound(file: self.name, tensor: name)
        }
        return info.shape
    }
}

extension ShardedSafeTensors: TensorSource {
    /// The shape of the named tensor.
    public func shape(of name: String) throws -> [Int] { try info(name).shape }
}
