/// Reading tensors as Float32, whatever their stored dtype.
extension SafeTensorsFile {
    /// The values of the tensor named `tensor` in row-major order, converted to Float32.
    ///
    /// F32 is copied as is; F16, BF16 and F8 convert exactly; F64 and integers round to nearest.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` if there is no such tensor.
    public func floats(_ tensor: String) throws -> [Float] {
        let count = try requireInfo(tensor).elementCount
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            try copyFloats(tensor, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initializedCount = count
        }
    }

    /// Converts the tensor named `tensor` to Float32 directly into `destination`.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` if there is no such tensor, or
    ///   ``SafeTensorsError/elementCountMismatch(file:tensor:expected:actual:)`` if `destination`
    ///   does not hold exactly the tensor's element count.
    public func copyFloats(_ tensor: String, into destination: UnsafeMutableBufferPointer<Float>)
        throws
    {
        let info = try requireInfo(tensor)
        guard destination.count == info.elementCount else {
            throw SafeTensorsError.elementCountMismatch(
                file: name, tensor: tensor, expected: info.elementCount, actual: destination.count)
        }
        try withUnsafeBytes(of: tensor) { bytes in
            info.dtype.convertToFloat(bytes, into: destination)
        }
    }
}
