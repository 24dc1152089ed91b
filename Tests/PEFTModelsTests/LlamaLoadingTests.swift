import Foundation
import PEFTModels
import PEFTNN
import PEFTSafeTensors
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Llama-family checkpoints and configurations")
struct LlamaLoadingTests {
    /// A fresh temporary folder holding `config` as `config.json`.
    func folder(config: String) throws -> URL {
        let folder = testScratchRoot.appendingPathComponent(
            "peft-llama-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    /// `fixture`'s config.json with `changes` applied to its top-level keys (`NSNull` deletes one).
    func config(of fixture: String, _ changes: [String: Any]) throws -> String {
        let data = try Data(
            contentsOf: ParityFixture.folder(fixture).appendingPathComponent("config.json"))
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for (key, value) in changes {
            object[key] = value is NSNull ? nil : value
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Writes `tensors` (name → checkpoint tensor) to safetensors files in `folder`: one file, or
    /// `shards` files with an index.
    func writeWeights(_ tensors: [(String, [Int], [Float])], to folder: URL, shards: Int) throws {
        if shards == 1 {
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (name, shape, values) in tensors {
                try writer.add(name, shape: shape, values: values)
            }
            try writer.write(to: folder.appendingPathComponent("model.safetensors"))
            return
        }
        var weightMap: [String: String] = [:]
        let perShard = (tensors.count + shards - 1) / shards
        for shard in 0..<shards {
            let shardName = "model-0000\(shard + 1)-of-0000\(shards).safetensors"
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (name, shape, values) in tensors.dropFirst(shard * perShard).prefix(perShard) {
                try writer.add(name, shape: shape, values: values)
                weightMap[name] = shardName
            }
            try writer.write(to: folder.appendingPathComponent(shardName))
        }
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index)
            .write(to: folder.appendingPathComponent("model.safetensors.index.json"))
    }

    /// The tensors of a fixture's `model.safetensors`, converted to Float32.
    func fixtureTensors(_ name: String) throws -> [(String, [Int], [Float])] {
        let file = try SafeTensorsFile(
            contentsOf: ParityFixture.folder(name).appendingPathComponent("model.safetensors"))
        return try file.tensorNames.sorted().map { ($0, file.info($0)!.shape, try file.floats($0)) }
    }

    let tokens = [[5, 17, 42, 8, 30, 2, 9]]

    @Test(
        "A checkpoint sharded over three files with an index loads to the logits of the bf16 file")
    func sharded() throws {
        let target = try folder(config: config(of: "qwen2-tiny", [:]))
        try writeWeights(fixtureTensors("qwen2-tiny"), to: target, shards: 3)
        let sharded = try LlamaForCausalLM(contentsOf: target)
        let single = try LlamaForCausalLM(contentsOf: ParityFixture.folder("qwen2-tiny"))
        #expect(sharded(tokens).scalars == single(tokens).scalars)
    }

    @Test("A tied head saved as lm_head.weight, and legacy inv_freq buffers, load")
    func tiedHeadAndBuffers() throws {
        let target = try folder(config: config(of: "llama3-rope-tiny", [:]))
        var tensors = try fixtureTensors("llama3-rope-tiny").map { entry in
            entry.0 == "model.embed_tokens.weight" ? ("lm_head.weight", entry.1, entry.2) : entry
        }
        tensors.append(("model.layers.0.self_attn.rotary_emb.inv_freq", [4], [1, 0.3, 0.1, 0.03]))
        try writeWeights(tensors, to: target, shards: 1)
        let loaded = try LlamaForCausalLM(contentsOf: target)
        let reference = try LlamaForCausalLM(contentsOf: ParityFixture.folder("llama3-rope-tiny"))
        #expect(loaded(tokens).scalars == reference(tokens).scalars)
    }

    @Test(
        "Config values a model cannot be built from are refused by key",
        arguments: [
            (#"{"num_key_value_heads": 3}"#, "num_key_value_heads"),
            (#"{"hidden_size": "wide"}"#, "hidden_size"),
            (#"{"eos_token_id": "end"}"#, "eos_token_id"),
            (#"{"eos_token_id": [63, 64]}"#, "eos_token_id"),
            (#"{"head_dim": 5}"#, "head_dim"),
            (#"{"hidden_act": "swiglu-ish"}"#, "hidden_act"),
            (
                #"{"rope_parameters": {"rope_type": "yarn", "factor": 2.0}}"#,
                "rope_parameters.rope_type"
            ),
            (#"{"rope_parameters": {"rope_type": "linear"}}"#, "rope_parameters.factor"),
            (#"{"rope_scaling": {"type": "dynamic", "factor": 2.0}}"#, "rope_scaling.rope_type"),
            (
                #"{"rope_parameters": {"partial_rotary_factor": 0.5}}"#,
                "rope_parameters.partial_rotary_factor"
            ),
            (#"{"layer_types": ["full_attention"]}"#, "layer_types"),
        ])
    func badConfiguration(changes: String, key: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(changes.utf8)) as! [String: Any]
        let target = try folder(config: config(of: "qwen3-tiny", object))
        try FileManager.default.copyItem(
            at: ParityFixture.folder("qwen3-tiny").appendingPathComponent("model.safetensors"),
            to: target.appendingPathComponent("model.safetensors"))
        #expect {
            try LlamaForCausalLM(contentsOf: target)
        } throws: { error in
            guard case ModelLoadingError.malformedConfig(let file, let found, _) = error else {
                return false
            }
            return found == key && file.hasSuffix("config.json")
        }
    }

    @Test("Another model_type is refused with the supported list")
    func unsupportedType() throws {
        let target = try folder(config: #"{"model_type": "gemma"}"#)
        #expect {
            try LlamaForCausalLM(contentsOf: target)
        } throws: { error in
            guard case ModelLoadingError.unsupportedModelType(_, "gemma", let supported) = error
            else { return false }
            return supported == LlamaForCausalLM.supportedModelTypes
        }
    }

    @Test(
        "A config.json that does not describe its weights fails before the model is built (fuzzing found a 137 s load)",
        arguments: [("hidden_size", nil), ("intermediate_size", 64), ("vocab_size", 80)]
            as [(String, Int?)])
    func configurationAgainstWeights(key changed: String, value: Int?) throws {
        let target = try folder(
            config: config(of: "mistral-tiny", [changed: value.map { $0 as Any } ?? NSNull()]))
        try FileManager.default.copyItem(
            at: ParityFixture.folder("mistral-tiny").appendingPathComponent("model.safetensors"),
            to: target.appendingPathComponent("model.safetensors"))
        let started = Date()
        #expect {
            try LlamaForCausalLM(contentsOf: target)
        } throws: { error in
            guard case ModelLoadingError.malformedConfig(let file, let key, let reason) = error
            else { return false }
            return file.hasSuffix("config.json") && key.contains(changed)
                && reason.contains("but the weights hold")
        }
        // Llama's default width (4096) is never allocated.
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test(
        "Another family's weights, or more layers than the weights hold, fail before the model is built (fuzzing found an out-of-memory)"
    )
    func weightsOfAnotherShape() throws {
        let cases: [(config: String, weights: String, phrase: String)] = [
            (
                try config(of: "t5-v1_0-tiny", ["model_type": "llama"]), "t5-v1_0-tiny",
                "hold no model.embed_tokens.weight or lm_head.weight"
            ),
            (
                try config(of: "mistral-tiny", ["num_hidden_layers": 3]), "mistral-tiny",
                "model.layers.2.mlp.gate_proj.weight"
            ),
        ]
        for (text, weights, phrase) in cases {
            let target = try folder(config: text)
            try FileManager.default.copyItem(
                at: ParityFixture.folder(weights).appendingPathComponent("model.safetensors"),
                to: target.appendingPathComponent("model.safetensors"))
            let started = Date()
            #expect {
                try LlamaForCausalLM(contentsOf: target)
            } throws: { error in
                guard case ModelLoadingError.checkpoint(_, let reason) = error else { return false }
                return reason.contains(phrase)
            }
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test("A layer count no model has is refused by name, without building its layer table")
    func absurdLayerCount() throws {
        let target = try folder(
            config: config(of: "qwen3-tiny", ["num_hidden_layers": 888_888_888_888_886]))
        #expect {
            try LlamaForCausalLM(contentsOf: target)
        } throws: { error in
            guard case ModelLoadingError.malformedConfig(_, "num_hidden_layers", _) = error else {
                return false
            }
            return true
        }
    }

    /// A configuration decoded from JSON text.
    func decode(_ json: String) throws -> LlamaConfiguration {
        try JSONDecoder().decode(LlamaConfiguration.self, from: Data(json.utf8))
    }

    @Test(
        "Legacy rope_scaling with a top-level rope_theta reads as transformers 5's rope_parameters")
    func legacyRope() throws {
        let legacy = try decode(
            #"{"rope_theta": 500000, "rope_scaling": {"type": "linear", "factor": 2.0}}"#)
        let current = try decode(
            #"{"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 500000.0}}"#)
        #expect(legacy.rope.type == "linear" && legacy.rope.theta == 500000)
        #expect(
            legacy.rope.factor == current.rope.factor && legacy.rope.theta == current.rope.theta)
        #expect(try decode("{}").rope == RotaryEmbeddingParameters(theta: 10000))
        #expect(try decode(#"{"rope_theta": 1000000.0}"#).rope.theta == 1_000_000)
    }

    @Test("llama3 frequencies are transformers' for Llama 3.2 1B's settings")
    func llama3Frequencies() throws {
        let configuration = try decode(
            #"""
            {"hidden_size": 2048, "num_attention_heads": 32, "max_position_embeddings": 131072,
             "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
               "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
            """#)
        let rotary = RotaryEmbedding(
            parameters: configuration.rope, headDimension: configuration.headDimension,
            maximumPositions: configuration.maximumPositions)
        let expected: [(Int, Float)] = [
            (0, 1.0), (1, 0.663601279), (15, 0.00129054801), (20, 8.57025589e-06),
            (24, 1.66196742e-06), (31, 9.41830649e-08),
        ]
        for (index, value) in expected {
            #expect(
                abs(rotary.inverseFrequencies[index] - value) <= 1e-6 * value, "inv_freq[\(index)]")
        }
    }

    @Test("Defaults and sliding-window switches follow each model_type")
    func modelTypeDefaults() throws {
        #expect(try decode(#"{"model_type": "mistral"}"#).slidingWindow == 4096)
        #expect(
            try decode(#"{"model_type": "mistral", "sliding_window": null}"#).slidingWindow == nil)
        #expect(try decode(#"{"model_type": "qwen3", "hidden_size": 64}"#).headDimension == 128)
        #expect(try decode(#"{"model_type": "qwen2", "sliding_window": 8}"#).slidingWindow == nil)
        let sliding = try decode(
            #"""
            {"model_type": "qwen2", "num_hidden_layers": 3, "use_sliding_window": true,
             "sliding_window": 8, "max_window_layers": 1}
            """#)
        #expect((0..<3).map { sliding.slidingWindow(forLayer: $0) } == [nil, 8, 8])
        #expect(try decode(#"{"model_type": "llama", "sliding_window": 8}"#).slidingWindow == nil)
        #expect(try decode(#"{"eos_token_id": [7, 9]}"#).eosTokenIDs == [7, 9])
        #expect(try decode(#"{"eos_token_id": 7}"#).eosTokenID == 7)
    }

    @Test("Mistral's sliding window hides tokens beyond the window, through every layer")
    func slidingWindow() throws {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder("mistral-tiny"))
        model.eval()
        // Window 3 over 2 layers: position t sees tokens t − 4 ... t, so token 0 reaches positions 0 ... 4.
        var changed = tokens
        changed[0][0] = 40
        let (before, after) = (model(tokens), model(changed))
        let vocabulary = model.configuration.vocabularySize
        func row(_ logits: Tensor, _ position: Int) -> Tensor {
            logits.narrowed(alongAxis: 1, start: position, length: 1).reshaped(to: [vocabulary])
        }
        for position in 5..<7 {
            #expect(row(before, position).scalars == row(after, position).scalars)
        }
        #expect(maxAbsoluteDifference(row(before, 4), row(after, 4)) > 1e-3)
    }

    @Test("A saved model reloads to the same logits and configuration", arguments: llamaFixtures)
    func saveAndReload(name: String) throws {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
        let target = testScratchRoot.appendingPathComponent(
            "peft-llama-save-\(UUID().uuidString)")
        try model.save(to: target)
        let reloaded = try LlamaForCausalLM(contentsOf: target)
        #expect(reloaded(tokens).scalars == model(tokens).scalars)
        var expected = model.configuration
        expected.rope.sourceKey = "rope_parameters"
        expected.keyValueHeads = expected.keyValueHeadCount
        expected.explicitHeadDimension = expected.headDimension
        #expect(reloaded.configuration == expected)
        let text = try String(
            contentsOf: target.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(text.contains(#""rms_norm_eps" : 1e-06"#) && text.contains(#""rope_parameters""#))
    }
}
