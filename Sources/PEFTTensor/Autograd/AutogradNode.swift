/// One vertex of the dynamic autograd graph.
///
/// A leaf node belongs to a trainable tensor and accumulates its ``gradient`` across backward passes
/// until ``Tensor/zeroGradient()``. An op node holds the op's backward function and the nodes of the
/// inputs it differentiates; backward releases it after use, so saved activations die with the pass.
public final class AutogradNode: @unchecked Sendable {
    /// The shape of the tensor this node belongs to.
    public let shape: [Int]
    /// The nodes of the op's inputs, `nil` where an input needs no gradient.
    let inputs: [AutogradNode?]
    /// Maps the output gradient to one gradient per input (`nil` where none is needed).
    private(set) var backwardFunction: ((Tensor) -> [Tensor?])?
    /// The accumulated gradient of a leaf.
    public internal(set) var gradient: Tensor?
    /// The gradient flowing into an op node during one backward pass.
    var pendingGradient: Tensor?
    /// `true` for a trainable tensor's node, `false` for an op result's.
    public let isLeaf: Bool
    /// The op kind open when the op ran forward, for ``OperationProfiler``; `nil` when not recording.
    let profileKind: OperationKind?

    init(leafOfShape shape: [Int]) {
        self.shape = shape
        self.inputs = []
        self.backwardFunction = nil
        self.isLeaf = true
        self.profileKind = nil
    }

    init(shape: [Int], inputs: [AutogradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.shape = shape
        self.inputs = inputs
        self.backwardFunction = backward
        self.isLeaf = false
        self.profileKind = OperationProfiler.currentKind
    }

    /// Drops the backward function and with it every tensor it saved.
    func release() {
        backwardFunction = nil
        pendingGradient = nil
    }
}

extension Tensor {
    /// `true` when gradients flow into this tensor.
    @inlinable public var requiresGradient: Bool { node != nil }

    /// The gradient accumulated into this leaf tensor, or `nil` when none has arrived yet.
    public var gradient: Tensor? { node?.gradient }

    /// This tensor as a new trainable leaf with no gradient yet. The storage is shared.
    public func requiringGradient() -> Tensor {
        var leaf = self
        leaf.node = AutogradNode(leafOfShape: shape)
        return leaf
    }

    /// This tensor without its autograd record; gradients stop here. The storage is shared.
    public func detached() -> Tensor {
        var constant = self
        constant.node = nil
        return constant
    }

    /// Drops this leaf's accumulated gradient, freeing its buffer.
    public func zeroGradient() {
        node?.gradient = nil
    }

    /// Replaces this leaf's accumulated gradient with `gradient`, as data-parallel training does
    /// once the ranks' gradients are averaged.
    public func replaceGradient(with gradient: Tensor) {
        guard let node, node.isLeaf else {
            preconditionFailure("Tensor.replaceGradient: \(shape) is not a trainable leaf")
        }
        precondition(
            gradient.shape == shape,
            "Tensor.replaceGradient: gradient shape \(gradient.shape) != \(shape)")
        node.gradient = gradient.detached()
    }

    /// Wraps an op's output, recording a node when gradient mode is on and an input needs a gradient.
    ///
    /// `backward` receives the output gradient and returns one gradient per entry of `inputs`, each
    /// shaped like that input; it may return `nil` for inputs that need none, and should check
    /// `requiresGradient` before computing a gradient nobody will use.
    static func result(
        _ output: Tensor, of inputs: [Tensor?], backward: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0?.requiresGradient == true })
        else {
            return output
        }
        var recorded = output
        recorded.node = AutogradNode(
            shape: output.shape, inputs: inputs.map { $0?.node }, backward: backward)
        return recorded
    }

    /// Back-propagates from this tensor into every leaf that requires a gradient.
    ///
    /// Without `seed` the tensor must have one element and the seed is 1. Gradients add to whatever the
    /// leaves already hold; the graph is consumed, so a second backward through it is a programming error.
    public func backward(_ seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward(): tensor of shape \(shape) does not require a gradient")
        }
        precondition(
            seed != nil || count == 1,
            "backward(): tensor of shape \(shape) is not a scalar; pass a seed")
        let seedGradient = seed ?? Tensor.ones(shape)
        precondition(
            seedGradient.shape == shape, "backward(): seed shape \(seedGradient.shape) != \(shape)")
        let engine = OperationProfiler.enter(.autograd)
        defer { engine.end() }
        let order = Tensor.reverseTopologicalOrder(from: root)
        withoutGradients {
            AutogradNode.accumulate(seedGradient.detached(), into: &root.pendingGradient)
            for current in order {
                guard let gradient = current.pendingGradient else { continue }
                if current.isLeaf {
                    current.pendingGradient = nil
                    AutogradNode.accumulate(gradient, into: &current.gradient)
                    continue
                }
                guard let backward = current.backwardFunction else {
                    preconditionFailure(
                        "backward(): the graph was already consumed by an earlier backward pass")
                }
                let inputGradients = OperationProfiler.measure(current.profileKind ?? .other) {
                    backward(gradient)
                }
                current.release()
                for (input, inputGradient) in zip(current.inputs, inputGradients) {
                    guard let input, let inputGradient else { continue }
                    precondition(
                        inputGradient.shape == input.shape,
                        "backward(): gradient shape \(inputGradient.shape) != input shape \(input.shape)"
                    )
                    AutogradNode.accumulate(inputGradient, into: &input.pendingGradient)
                }
            }
        }
    }

    /// Nodes ordered so that every node comes before the nodes it depends on.
    private static func reverseTopologicalOrder(from root: AutogradNode) -> [AutogradNode] {
        var postOrder: [AutogradNode] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var stack: [(node: AutogradNode, nextInput: Int)] = [(root, 0)]
        while !stack.isEmpty {
            let (current, nextInput) = stack[stack.count - 1]
            if nextInput < current.inputs.count {
                stack[stack.count - 1].nextInput += 1
                if let input = current.inputs[nextInput],
                    visited.insert(ObjectIdentifier(input)).inserted
                {
                    stack.append((input, 0))
                }
            } else {
                postOrder.append(current)
                stack.removeLast()
            }
        }
        return postOrder.reversed()
    }
}

extension AutogradNode {
    /// Adds `gradient` into `slot`, in place when the slot's buffer is not shared with anyone.
    static func accumulate(_ gradient: Tensor, into slot: inout Tensor?) {
        guard var existing = slot else {
            slot = gradient.detached()
            return
        }
        slot = nil
        if isKnownUniquelyReferenced(&existing.storage) {
            existing.storage.pointer.addInPlace(gradient.storage.pointer, count: existing.count)
            slot = existing
        } else {
            slot = Tensor.build(existing.shape) { out in
                out.update(from: existing.storage.pointer, count: existing.count)
                out.addInPlace(gradient.storage.pointer, count: existing.count)
            }
        }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// `self[i] += other[i]` for `i` in `0..<count`.
    @inlinable func addInPlace(_ other: UnsafePointer<Float>, count: Int) {
        for index in 0..<count { self[index] += other[index] }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inlinable func addInPlace(_ other: UnsafeMutablePointer<Float>, count: Int) {
        addInPlace(UnsafePointer(other), count: count)
    }
}
