import PEFTNN
import PEFTTensor
import Testing

struct GradientClippingTests {
    @Test(
        "clipGradientNorm matches clip_grad_norm_ when it clips and when it does not",
        arguments: ["clipped", "not_clipped"])
    func matchesPyTorch(name: String) {
        let reference = OptimizerFixture.shared.clipGradNorm.first { $0.name == name }!
        let parameters = reference.grads.map { Parameter(Tensor.zeros($0.shape)) }
        setGradients(parameters, to: reference.grads.map(\.tensor))
        let norm = clipGradientNorm(parameters, maxNorm: reference.maxNorm)
        #expect(abs(norm - reference.totalNorm) <= 1e-5 * reference.totalNorm)
        for (parameter, expected) in zip(parameters, reference.clippedGrads) {
            expectMatchesReference(parameter.gradient!.scalars, expected.data)
        }
    }

    @Test("Parameters without a gradient are skipped and do not count towards the norm")
    func skipsMissingGradients() {
        let withGradient = Parameter(Tensor.zeros([2]))
        let withoutGradient = Parameter(Tensor.zeros([3]))
        let frozen = Parameter(Tensor.ones([2]), trainable: false)
        setGradients([withGradient], to: [Tensor([3, 4])])
        let norm = clipGradientNorm([withGradient, withoutGradient, frozen], maxNorm: 1)
        #expect(norm == 5)
        #expect(withoutGradient.gradient == nil)
        let clipped = withGradient.gradient!.scalars
        #expect(abs(clipped[0] - 0.6) < 1e-6 && abs(clipped[1] - 0.8) < 1e-6)
    }

    @Test("Two parameters whose gradients came from one sum are each scaled once")
    func sharedGradientScaledOnce() {
        let a = Parameter(Tensor.zeros([2]))
        let b = Parameter(Tensor.zeros([2]))
        ((a.value + b.value) * Tensor([3, 4])).sum().backward()
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - Float(50).squareRoot()) < 1e-5)
        let scale = 1 / (Float(50).squareRoot() + 1e-6)
        for parameter in [a, b] {
            let gradient = parameter.gradient!.scalars
            #expect(abs(gradient[0] - 3 * scale) < 1e-6 && abs(gradient[1] - 4 * scale) < 1e-6)
        }
    }
}
