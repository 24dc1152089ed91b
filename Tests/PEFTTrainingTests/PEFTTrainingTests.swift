import PEFTTraining
import Testing

@Test("The training module re-exports the library")
func reexports() {
    #expect(Tensor([1, 2]).count == 2)
}
