import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("PiSSA and OLoRA ranks")
struct RefusedInitializationTests {
    @Test(
        "A rank larger than a layer is refused naming 'r' and the layer, and the base is untouched",
        arguments: [LoRAInitialization.pissa, .olora])
    func rankTooLarge(initialization: LoRAInitialization) throws {
        let loaded = try FixtureModels.load("gpt2-tiny")
        let model = FixtureModels.module(loaded)
        let before = baseParameterBits(model)
        let configuration = LoRAConfiguration {
            $0.rank = 20  // gpt2-tiny's layers are 16 wide
            $0.initialization = initialization
        }
        #expect {
            _ = try makePEFTModel(model, configuration: configuration)
        } throws: { error in
            guard case AdapterError.invalidConfiguration(let key, let reason) = error else {
                return false
            }
            return key == "r" && reason.contains("c_attn") && reason.contains("only 16")
        }
        #expect(baseParameterBits(model) == before)
    }

    @Test("An adapter_config.json asking PiSSA for too large a rank throws on load")
    func rankTooLargeInFile() throws {
        let folder = try temporaryDirectory()
        let configuration = LoRAConfiguration {
            $0.rank = 40
            $0.initialization = .pissa
        }
        try AdapterConfigurationFile.encode(configuration).write(
            to: folder.appendingPathComponent("adapter_config.json"))
        let model = FixtureModels.module(try FixtureModels.load("gpt2-tiny"))
        #expect {
            _ = try loadPEFTModel(model, from: folder)
        } throws: { error in
            "\(error)".contains("PiSSA takes 40 directions")
        }
    }
}
