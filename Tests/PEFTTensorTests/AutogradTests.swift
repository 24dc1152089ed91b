import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Autograd")
struct AutogradTests {
    @Test("A tensor used twice receives the sum of both gradients")
    func sharedSubexpression() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        let y = x * x + x  // dy/dx = 2x + 1
        y.sum().backward()
        #expect(x.gradient?.scalars == [3, 5, 7])
        let z = Tensor([2]).requiringGradient()
        let shared = z * 3
        (shared * shared + shared).sum().backward()  // d/dz (9z² + 3z) = 18z + 3
        #expect(z.gradient?.scalars == [39])
    }

    @Test("Gradients accumulate across backward calls until zeroed")
    func accumulation() {
        let x = Tensor([1, 2]).requiringGradient()
        (x * 3).sum().backward()
        (x * 4).sum().backward()
        #expect(x.gradient?.scalars == [7, 7])
        x.zeroGradient()
        #expect(x.gradient == nil)
        (x * 2).sum().backward()
        #expect(x.gradient?.scalars == [2, 2])
    }

    @Test("Gradients read before a later backward keep their values")
    func readGradientIsNotMutated() {
        let x = Tensor([1, 2]).requiringGradient()
        (x * 3).sum().backward()
        let first = x.gradient!
        (x * 4).sum().backward()
        #expect(first.scalars == [3, 3])
        #expect(x.gradient?.scalars == [7, 7])
    }

    @Test("Nothing is recorded without gradients, for detached tensors, or for constant inputs")
    func noRecording() {
        let x = Tensor([1, 2]).requiringGradient()
        let inference = withoutGradients { exp(x) * 2 }
        #expect(!inference.requiresGradient)
        #expect(!GradientMode.isEnabled == false)
        #expect(!(x.detached() * 2).requiresGradient)
        #expect(!(Tensor([1, 2]) * Tensor([3, 4])).requiresGradient)
        #expect((x * Tensor([3, 4])).requiresGradient)
        #expect(withoutGradients { GradientMode.isEnabled } == false)
    }

    @Test("A detached branch contributes no gradient")
    func detach() {
        let x = Tensor([3]).requiringGradient()
        (x * x.detached()).sum().backward()  // only the first factor is differentiated
        #expect(x.gradient?.scalars == [3])
    }

    /// A loss whose graph alone keeps an intermediate alive, with a weak reference to its storage.
    func lossSavingAnActivation(of x: Tensor) -> (loss: Tensor, saved: () -> TensorStorage?) {
        let activation = exp(x)  // the product below saves it for its backward
        weak let storage = activation.storage
        return ((activation * activation).sum(), { storage })
    }

    @Test("Backward releases the saved activations of op nodes")
    func graphIsReleased() {
        let x = Tensor([1, 2]).requiringGradient()
        let (loss, saved) = lossSavingAnActivation(of: x)
        #expect(saved() != nil, "the graph holds the activation until backward")
        loss.backward()
        #expect(saved() == nil, "backward left the activation alive")
        // The loss still has its node; only what the node saved is gone. The leaf gradient is intact.
        #expect(loss.node?.isLeaf == false)
        expectClose(x.gradient!.scalars, [14.778_112, 109.196_3], tolerance: 1e-4)  // 2·e^(2x)
    }

    @Test("A seeded backward on a non-scalar output propagates the seed")
    func seededBackward() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        (x * 2).backward(Tensor([1, 0, -1]))
        #expect(x.gradient?.scalars == [2, 0, -2])
    }
}
