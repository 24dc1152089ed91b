/// The group of one process: sums and broadcasts leave the values as they are.
public final class SingleProcessGroup: ProcessGroup {
    /// A group of this process alone.
    public init() {}

    /// 0.
    public var rank: Int { 0 }
    /// 1.
    public var size: Int { 1 }
    /// The sum over one process is the value itself.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    /// The sum over one process is the value itself.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    /// There is nobody to send to.
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {
        precondition(root == 0, "SingleProcessGroup.broadcast: root \(root) in a group of 1")
    }
    /// There is nobody to wait for.
    public func barrier() throws {}
    /// Nothing to end.
    public func finish() throws {}
}
