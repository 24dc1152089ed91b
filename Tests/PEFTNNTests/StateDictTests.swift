import Foundation
import PEFTNN
import PEFTSafeTensors
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("State dicts")
struct StateDictTests {
    func temporaryFolder() throws -> URL {
        let folder = testScratchRoot.appendingPathComponent(
            "peft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("Saving and loading parameters round-trips every value")
    func roundTrip() throws {
        let folder = try temporaryFolder()
        let source = TinyModel(seed: 1)
        let url = folder.appendingPathComponent("model.safetensors")
        try source.saveParameters(to: url)
        let target = TinyModel(seed: 2)
        #expect(target.head.weight.scalars != source.head.weight.scalars)
        try target.loadParameters(from: SafeTensorsFile(contentsOf: url))
        for ((path, a), (_, b)) in zip(source.namedParameters(), target.namedParameters()) {
            #expect(a.value.scalars == b.value.scalars, "\(path)")
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path) == [
                "model.safetensors"
            ])
    }

    @Test("A strict load names missing and unexpected keys; a lenient one reports them")
    func strictAndLenient() throws {
        var tensors = TinyModel(seed: 3).stateDict()
        tensors["head.weight"] = nil
        tensors["extra.weight"] = Tensor.zeros([1])
        let model = TinyModel(seed: 4)
        #expect(
            throws: ModuleTreeError.keyMismatch(
                missing: ["head.weight"], unexpected: ["extra.weight"])
        ) {
            try model.loadStateDict(tensors)
        }
        let report = try model.loadStateDict(tensors, strict: false)
        #expect(
            report
                == StateDictLoadReport(
                    missingKeys: ["head.weight"], unexpectedKeys: ["extra.weight"]))
        #expect(model.embedding.weight.scalars == tensors["embed.weight"]!.scalars)
    }

    @Test("A shape mismatch names the key and leaves the model unchanged")
    func shapeMismatch() {
        var tensors = TinyModel(seed: 5).stateDict()
        tensors["layers.1.norm.bias"] = Tensor.zeros([5])
        let model = TinyModel(seed: 6)
        let before = model.embedding.weight.scalars
        #expect(
            throws: ModuleTreeError.shapeMismatch(
                key: "layers.1.norm.bias", expected: [4], found: [5])
        ) {
            try model.loadStateDict(tensors)
        }
        #expect(model.embedding.weight.scalars == before)
    }

    @Test("Loading keeps a frozen parameter frozen and a trainable one trainable")
    func loadKeepsTrainability() throws {
        let model = TinyModel(seed: 7)
        model.freeze { $0 != "head.weight" }
        try model.loadStateDict(TinyModel(seed: 8).stateDict())
        #expect(model.trainableParameters.count == 1)
        #expect(model.head.$weight.isTrainable)
    }
}
