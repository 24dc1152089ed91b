import Foundation
import PEFT
import PEFTTestSupport
import Testing

@Suite("Prompt encoders match peft's")
struct PromptEncoderParityTests {
    func check(_ encoder: any PromptLearningEncoder, _ name: String) throws {
        let folder = Fixtures.url("prompt-encoders")
        try encoder.loadParameters(
            from: SafeTensorsFile(contentsOf: folder.appendingPathComponent("\(name).safetensors")))
        encoder.eval()
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
            as! [String: Any]
        let expected = (record["output"] as! [NSNumber]).map(\.floatValue)
        let output = encoder()
        #expect(output.shape == record["shape"] as! [Int])
        expectClose(output.scalars, expected, tolerance: 1e-5)
    }

    @Test(
        "P-tuning's MLP and bidirectional two-layer LSTM encoders, and prefix tuning's projection")
    func encoders() throws {
        var generator = RandomGenerator(seed: 1)
        var mlp = PTuningConfiguration(virtualTokens: 4, encoderType: .mlp, encoderHiddenSize: 5)
        mlp.encoderLayerCount = 2
        try check(
            PTuningEncoder(
                rows: 4, width: 6, virtualTokenCount: 4, configuration: mlp, using: &generator),
            "p-tuning-mlp")
        var lstm = PTuningConfiguration(virtualTokens: 4, encoderType: .lstm, encoderHiddenSize: 5)
        lstm.encoderLayerCount = 2
        try check(
            PTuningEncoder(
                rows: 4, width: 6, virtualTokenCount: 4, configuration: lstm, using: &generator),
            "p-tuning-lstm")
        let prefix = PrefixTuningConfiguration(
            virtualTokens: 4, usesProjection: true, encoderHiddenSize: 5)
        try check(
            PrefixEncoder(
                virtualTokenCount: 4, width: 6, layers: 2, configuration: prefix, using: &generator),
            "prefix-projection")
    }

    @Test("LSTM input gradients match finite differences (weights are composed of checked ops)")
    func lstmGradients() {
        var generator = RandomGenerator(seed: 2)
        let lstm = LSTM(
            inputSize: 3, hiddenSize: 2, layerCount: 2, isBidirectional: true, using: &generator)
        lstm.freeze()
        expectGradientsMatchFiniteDifferences([randomTensor([4, 3], seed: 3)]) { lstm($0[0]) }
    }
}
